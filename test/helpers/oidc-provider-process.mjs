// A real OpenID Connect provider (oidc-provider) for the web sign-in tests, as its own process.
// Its development login form accepts any login and password; the login is the account id, and
// the account's email claim is that login. Consent is granted at once (a first-party client).
// Usage: node oidc-provider-process.mjs <port> <client_id> <client_secret> <redirect_uri>
// Prints "listening <issuer>" once it serves.
import process from 'node:process';
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  cookies: { keys: ['test-oidc-provider-cookie-key-0123456789'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, sub) {
    return { accountId: sub, claims: async () => ({ sub, email: sub, email_verified: true }) };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
