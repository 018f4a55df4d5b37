import { z } from 'zod';

export const receiverSchema = z.strictObject({
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'webhook url must be http:// or https://'),
  format: z.enum(['json', 'slack']).default('json'),
  /** Standard Webhooks secret (`whsec_` + base64), read from the environment variable the config names. */
  secret: z.string().min(1).optional(),
});
export const receiversSchema = z.array(receiverSchema);
export type Receiver = z.infer<typeof receiverSchema>;

/** Parses receivers from JSON text (e.g. an env variable): `[{"url":"https://...","format":"slack"}]`. */
export function parseReceivers(text: string | undefined): Receiver[] {
  if (text === undefined || text.trim() === '') return [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('webhook receivers must be a JSON array of {url, format}');
  }
  const parsed = receiversSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `invalid webhook receivers: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}
