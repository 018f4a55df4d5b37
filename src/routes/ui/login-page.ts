import { html, type SafeHtml } from './html.js';
import { type PageContext, page } from './layout.js';

export function loginPage(
  ctx: PageContext,
  options: { error?: string; name?: string; next?: string; noUsers?: boolean },
): SafeHtml {
  return page(
    'Log in',
    ctx,
    html`<form class="login" method="post" action="/ui/login">
<h1>Log in to review</h1>
${options.error !== undefined ? html`<p class="error" role="alert">${options.error}</p>` : ''}
${options.noUsers === true ? html`<p class="error" role="alert">No console users are configured: nobody can log in until PULLGATE_USERS_FILE names a users file.</p>` : ''}
<label for="name">Name<input id="name" name="name" autocomplete="username" required value="${options.name ?? ''}"></label>
<label for="password">Password<input id="password" name="password" type="password" autocomplete="current-password" required></label>
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<input type="hidden" name="next" value="${options.next ?? ''}">
<button type="submit">Log in</button>
</form>`,
  );
}
