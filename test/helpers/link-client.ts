/**
 * A person following a mail link over real HTTP, as a browser without scripts would: GET the page
 * (keeping its cookies), read the form, POST it back. Each client has its own cookie jar.
 */
import { CookieJar, csrfFieldOf, form } from '../web/support';

export interface PageResult {
  status: number;
  html: string;
  /** The text of the page's <h1>, whitespace collapsed. */
  heading: string;
  /** The page's role="alert" or role="status" message, whitespace collapsed. */
  message: string;
}

const text = (markup: string | undefined): string =>
  (markup ?? '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();

async function pageOf(res: Response): Promise<PageResult> {
  const html = await res.text();
  return {
    status: res.status,
    html,
    heading: text(/<h1>([\s\S]*?)<\/h1>/.exec(html)?.[1]),
    message: text(/role="(?:alert|status)"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1]),
  };
}

export class LinkClient {
  readonly jar = new CookieJar();

  constructor(private readonly headers: Record<string, string> = {}) {}

  async open(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<PageResult> {
    const res = await fetch(url, {
      method,
      headers: { ...this.headers, cookie: this.jar.header(new URL(url).pathname) },
      redirect: 'manual',
    });
    this.jar.store(res);
    return pageOf(res);
  }

  async post(url: string, fields: Record<string, string>): Promise<PageResult> {
    const f = form(fields);
    const res = await fetch(url, {
      method: 'POST',
      body: f.body,
      headers: { ...this.headers, ...f.headers, cookie: this.jar.header(new URL(url).pathname) },
      redirect: 'manual',
    });
    this.jar.store(res);
    return pageOf(res);
  }

  /** The CSRF field of the confirmation page at `url` (opening it sets the cookie it pairs with). */
  async formOf(url: string): Promise<{ page: PageResult; csrf: string }> {
    const page = await this.open(url);
    if (page.status !== 200) throw new Error(`${url} answered ${page.status} "${page.heading}": ${page.message}`);
    return { page, csrf: csrfFieldOf(page.html) };
  }

  /** Opens the link's page and submits its form with `fields`. */
  async confirm(url: string, fields: Record<string, string> = {}): Promise<PageResult> {
    const { csrf } = await this.formOf(url);
    return this.post(url, { csrf, ...fields });
  }
}
