// The identity provider the end-to-end suite signs in through: npm `oidc-provider` (OpenID-certified)
// with a few password users in different groups, plus test controls under /__test/ (key rotation,
// going down) and users whose ID tokens are deliberately broken on the way out.
//
// Environment: IDP_PORT, PORTAL_URL (the portal's public URL), IDP_CLIENT_SECRET.
import crypto from 'node:crypto';
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT ?? 3109);
const issuer = `http://127.0.0.1:${port}`;
const portal = (process.env.PORTAL_URL ?? 'http://127.0.0.1:3108').replace(/\/$/, '');
const clientSecret = process.env.IDP_CLIENT_SECRET ?? 'e2e-client-secret';

/** People who can sign in: password, display name and IdP groups. */
export const USERS = {
  alice: { password: 'alice-pw', name: 'Alice Admin', groups: ['idp-admins', 'staff'] },
  oscar: { password: 'oscar-pw', name: 'Oscar Operator', groups: ['idp-operators', 'staff'] },
  victor: { password: 'victor-pw', name: 'Victor Viewer', groups: ['idp-viewers', 'staff'] },
  nadia: { password: 'nadia-pw', name: 'Nadia Nobody', groups: [] },
  // Her groups come only from UserInfo, never in the ID token.
  ursula: { password: 'ursula-pw', name: 'Ursula Userinfo', groups: ['idp-admins'], userinfoOnly: true },
  // A group name with markup in it: must be shown as text, never as HTML.
  mallory: { password: 'mallory-pw', name: 'Mallory <b>Markup</b>', groups: ['<img src=x onerror="window.pwned=1">'] },
  // Each of these gets an ID token broken in the named way (the portal must refuse it).
  tampered: { password: 'x', name: 'Tampered Token', groups: ['staff'], mutate: 'tampered' },
  expired: { password: 'x', name: 'Expired Token', groups: ['staff'], mutate: 'expired' },
  'wrong-audience': { password: 'x', name: 'Wrong Audience', groups: ['staff'], mutate: 'wrong-audience' },
  'wrong-issuer': { password: 'x', name: 'Wrong Issuer', groups: ['staff'], mutate: 'wrong-issuer' },
  'wrong-nonce': { password: 'x', name: 'Wrong Nonce', groups: ['staff'], mutate: 'wrong-nonce' },
};

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

let signingKey = newKey();
let down = false;
const cookieKeys = [crypto.randomBytes(32).toString('hex')];

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto}label{display:block;margin:.5rem 0}
input{display:block;width:100%;padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}.error{color:#b00}</style>
</head><body><h1>${escape(title)}</h1>${body}</body></html>`;

function loginForm(uid, error) {
  return page(
    'Test IdP sign-in',
    `${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<label>User name <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`,
  );
}

function build() {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'portolan',
        client_secret: clientSecret,
        redirect_uris: [`${portal}/auth/callback`],
        post_logout_redirect_uris: [`${portal}/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    // Groups go into the ID token, except for users who only have them in UserInfo.
    conformIdTokenClaims: false,
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page('Sign out of the test IdP', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out of the IdP</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out of the test IdP', '<p>You are signed out.</p>');
        },
      },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    // The portal is a first-party client: grant what it asks for without a consent screen.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
    findAccount: async (ctx, sub) => {
      const user = USERS[sub];
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: async (use) => ({
          sub,
          name: user.name,
          preferred_username: sub,
          email: `${sub}@idp.test`,
          email_verified: true,
          ...(user.userinfoOnly && use === 'id_token' ? {} : { groups: user.groups }),
        }),
      };
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Test IdP error', `<pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
    },
  });

  // Break the ID tokens of the users named for a failure, after the provider has issued them.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token' || ctx.status !== 200 || !ctx.body?.id_token) return;
    const token = ctx.body.id_token;
    const claims = jose.decodeJwt(token);
    const mutate = USERS[claims.sub]?.mutate;
    if (!mutate) return;
    ctx.body = { ...ctx.body, id_token: await broken(token, claims, mutate) };
  });
  return provider;
}

async function broken(token, claims, how) {
  if (how === 'tampered') {
    // Same signature, different payload: a forger granting themselves a group.
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...claims, groups: ['idp-admins'] })).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }
  const now = Math.floor(Date.now() / 1000);
  const changed = {
    expired: { iat: now - 7200, exp: now - 3600 },
    'wrong-audience': { aud: 'some-other-app' },
    'wrong-issuer': { iss: 'http://127.0.0.1:1/not-the-issuer' },
    'wrong-nonce': { nonce: 'not-the-nonce-the-portal-sent' },
  }[how];
  const key = await jose.importJWK(signingKey, 'RS256');
  return new jose.SignJWT({ ...claims, ...changed })
    .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, typ: 'JWT' })
    .sign(key);
}

let provider = build();
let handler = provider.callback();

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (e) {
    res.writeHead(400, { 'content-type': 'text/html' });
    res.end(page('Sign-in expired', `<p>${escape(e.message)}</p>`));
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(loginForm(details.uid));
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') ?? '';
  const user = USERS[username];
  if (!user || user.password !== form.get('password')) {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end(loginForm(uid, 'Wrong user name or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
}

function control(req, res, what) {
  if (what === 'rotate') {
    signingKey = newKey();
    provider = build();
    handler = provider.callback();
  } else if (what === 'down') {
    down = true;
  } else if (what === 'up') {
    down = false;
  } else {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, kid: signingKey.kid, down }));
}

http
  .createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const test = url.pathname.match(/^\/__test\/(\w+)$/);
    if (test && req.method === 'POST') return control(req, res, test[1]);
    if (down) {
      // As if the process had crashed: the connection drops without an answer.
      req.socket.destroy();
      return;
    }
    const uid = url.pathname.match(/^\/interaction\/([\w-]+)$/);
    if (uid) {
      interaction(req, res, uid[1]).catch((e) => {
        res.writeHead(500).end(String(e));
      });
      return;
    }
    handler(req, res);
  })
  .listen(port, '127.0.0.1', () => {
    console.log(`test IdP on ${issuer} for ${portal}`);
  });
