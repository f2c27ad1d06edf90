import { html } from '../../domain/mail/html';
import { layout } from './layout';

/** The shared-secret login form; `next` is an already checked local path. */
export function loginPage(next: string, error?: string): string {
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
        <button type="submit">Log in</button>
      </form>`,
  );
}
