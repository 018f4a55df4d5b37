import type { TokenView } from '../../store/token-store.js';
import { html, type SafeHtml } from './html.js';
import { type PageContext, page } from './layout.js';

/** Personal API tokens, for admins. A new token is shown on the answer to its creation only. */
export function tokensPage(
  ctx: PageContext,
  d: { tokens: TokenView[]; created?: { token: string; view: TokenView }; error?: string },
): SafeHtml {
  return page(
    'API tokens',
    ctx,
    html`<h1>Personal API tokens</h1>
${
  d.created !== undefined
    ? html`<div class="notice" role="status"><p>Token for <strong>${d.created.view.name}</strong> (${d.created.view.role}), expires ${d.created.view.expiresAt ?? 'never'}. It is shown only now: store it as a secret.</p>
<p><code id="new-token">${d.created.token}</code></p></div>`
    : ''
}
${d.error !== undefined ? html`<p class="error" role="alert">${d.error}</p>` : ''}
<form class="filters" method="post" action="/ui/tokens">
<label for="token-name">Token name<input id="token-name" name="name" required maxlength="100"></label>
<label for="token-role">Role<select id="token-role" name="role"><option>viewer</option><option selected>reviewer</option><option>admin</option></select></label>
<label for="token-days">Expires in days<input id="token-days" name="days" type="number" min="1" max="366" value="90"></label>
<input type="hidden" name="_csrf" value="${ctx.csrf}">
<button type="submit">Create token</button>
</form>
${
  d.tokens.length === 0
    ? html`<p class="muted">No tokens.</p>`
    : html`<table class="stack"><thead><tr><th>Id</th><th>Name</th><th>Role</th><th>State</th><th>Created</th><th>Last used</th><th></th></tr></thead><tbody>
${d.tokens.map(
  (
    t,
  ) => html`<tr><td data-label="Id">${t.id}</td><td data-label="Name">${t.name}</td><td data-label="Role">${t.role}</td>
<td data-label="State">${t.revokedAt !== null ? `revoked ${t.revokedAt}` : `expires ${t.expiresAt ?? 'never'}`}</td>
<td data-label="Created">${t.createdAt} by ${t.createdBy}</td><td data-label="Last used">${t.lastUsedAt ?? 'never'}</td>
<td>${
    t.revokedAt === null
      ? html`<form method="post" action="/ui/tokens/${t.id}/revoke"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit">Revoke ${t.name}</button></form>`
      : ''
  }</td></tr>`,
)}</tbody></table>`
}`,
  );
}
