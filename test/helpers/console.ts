import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface ConsoleUser {
  name: string;
  password: string;
  role: 'viewer' | 'reviewer' | 'admin';
}

/** Writes a PULLGATE_USERS_FILE for these users (bcrypt cost 4: the tests are not about hashing cost). */
export async function writeUsersFile(dir: string, users: readonly ConsoleUser[]): Promise<string> {
  const file = join(dir, 'users.yaml');
  const lines = ['users:'];
  for (const u of users) {
    lines.push(
      `  - name: ${u.name}`,
      `    password_bcrypt: "${bcrypt.hashSync(u.password, 4)}"`,
      `    role: ${u.role}`,
    );
  }
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Fills the login form by its labels, as a person would, and submits it. */
export async function logIn(
  page: Page,
  baseUrl: string,
  user: { name: string; password: string },
): Promise<void> {
  await page.goto(`${baseUrl}/ui/login`);
  await page.getByLabel('Name').fill(user.name);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForLoadState('load');
}

export async function expectLoggedIn(page: Page, name: string): Promise<void> {
  expect(await page.locator('header .who').textContent()).toContain(name);
}
