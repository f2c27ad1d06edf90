import { html } from '../../domain/mail/html';
import { layout } from './layout';

/**
 * The shared-secret login form; `next` is an already checked local path. With `askEmail` it also
 * asks who signs in (optional): only a named person has a "waiting on me" page and acts in their name.
 */
export function loginPage(next: string, error?: string, askEmail = false): string {
  return layout(
    { title: 'Log in' },
    html`<h1>Log in</h1>
      <p>The dashboard needs the operators' shared secret. Links from mails work without logging in.</p>
      ${error ? html`<p class="message error" role="alert">${error}</p>` : ''}
      <form method="post" action="/login" class="action">
        <input type="hidden" name="next" value="${next}" />
        <div class="field">
          <label for="secret">Shared secret</label>
          <input type="password" id="secret" name="secret" required autocomplete="current-password" />
        </div>
        ${
          askEmail
            ? html`<div class="field">
                <label for="email">Your email (optional)</label>
                <input type="email" id="email" name="email" autocomplete="email" />
                <p class="help">As listed in the configuration; needed to act from the "waiting on me" page.</p>
              </div>`
            : ''
        }
        <button type="submit">Log in</button>
      </form>`,
  );
}
