import { html } from '../../domain/mail/html';
import { layout } from './layout';

/** After an identity provider's sign-in: moves on to `next` by itself (a same-site navigation, see oidc-auth.ts). */
export function signedInPage(email: string, next: string): string {
  return layout(
    { title: 'Signed in', refreshTo: next },
    html`<h1>Signed in</h1>
      <p class="message ok" role="status">You are signed in as ${email}.</p>
      <p><a href="${next}">Continue</a></p>`,
  );
}
