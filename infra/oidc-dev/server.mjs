// A local OpenID provider for development and tests (never for production): npm `oidc-provider` with the demo
// accounts of accounts.json. The login page lists the accounts (no passwords); `login_hint=<account id>` on the
// authorization request selects one without a page, which the tests use. Prints "READY <issuer>" when it listens.
//
// Environment: OIDC_DEV_PORT (default 8090, 0 = any free port), OIDC_DEV_CLIENT_ID (trede-dev),
// OIDC_DEV_CLIENT_SECRET (trede-dev-secret), OIDC_DEV_REDIRECT_URIS and OIDC_DEV_POST_LOGOUT_REDIRECT_URIS
// (comma-separated; default: Trede of `make run` at http://127.0.0.1:8000).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const config = JSON.parse(readFileSync(new URL('./accounts.json', import.meta.url), 'utf8'));
const accounts = new Map(config.accounts.map((account) => [account.id, account]));
const kvkClaim = config.kvk_claim;
const list = (value, fallback) => (value || fallback).split(',').map((item) => item.trim()).filter(Boolean);

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const server = http.createServer();
server.listen(Number(env.OIDC_DEV_PORT ?? 8090), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: `dev-${Date.now()}`, use: 'sig', alg: 'RS256' };

  const provider = new Provider(issuer, {
    clients: [{
      client_id: env.OIDC_DEV_CLIENT_ID || 'trede-dev',
      client_secret: env.OIDC_DEV_CLIENT_SECRET || 'trede-dev-secret',
      redirect_uris: list(env.OIDC_DEV_REDIRECT_URIS, 'http://127.0.0.1:8000/auth/callback/dev'),
      post_logout_redirect_uris: list(env.OIDC_DEV_POST_LOGOUT_REDIRECT_URIS, 'http://127.0.0.1:8000/'),
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub', kvkClaim], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false, // email, name and the KvK claim in the ID token itself
    pkce: { required: () => true }, // also for our confidential client
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Uitloggen bij de ontwikkel-OP', `${form}
<p>Wilt u ook bij de lokale OpenID-provider uitloggen?</p>
<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, uitloggen</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Uitgelogd', '<p>U bent uitgelogd bij de lokale OpenID-provider.</p>');
        },
      },
    },
    // Demo accounts consent to everything: no consent page.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    findAccount: async (ctx, id) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          email: account.email,
          email_verified: true,
          name: account.name,
          ...(account.kvk ? { [kvkClaim]: account.kvk } : {}),
        }),
      };
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Fout bij de ontwikkel-OP', `<p>${escape(out.error)}: ${escape(out.error_description || '')}</p>`);
    },
  });
  const callback = provider.callback();

  server.on('request', async (req, res) => {
    const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?(\?.*)?$/);
    if (!match) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') {
        return await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      }
      let accountId = accounts.has(details.params.login_hint) ? details.params.login_hint : undefined;
      if (match[2] && req.method === 'POST') accountId = (await readForm(req)).get('account');
      if (accountId && accounts.has(accountId)) {
        return await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      }
      const buttons = config.accounts.map((account) => `<li><button type="submit" name="account" value="${escape(account.id)}">`
        + `${escape(account.name)}</button> – ${escape(account.description)}</li>`).join('\n');
      return send(res, 200, page('Inloggen bij de ontwikkel-OP', `
<p>Lokale OpenID-provider voor ontwikkeling: kies een demo-account (geen wachtwoord nodig).</p>
<form method="post" action="/interaction/${escape(details.uid)}/login"><ul>${buttons}</ul></form>`));
    } catch (error) {
      return send(res, 400, page('Fout bij de ontwikkel-OP', `<p>${escape(error.message)}</p>`));
    }
  });
  console.log(`READY ${issuer}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
