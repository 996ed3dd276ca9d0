// Wizard step transitions and live name checks, as the server answers them (run by end2end/bench.sh
// against a release portal with its demo kubesim): signs in as the development admin, then for
// `rounds` rounds posts each step's form (303 to the next step), renders each step's page and asks
// the name check, one request at a time over loopback. Prints p50, p99 and max per kind, in ms,
// measured from sending the request to the last byte of the answer.
const base = process.argv[2] ?? 'http://127.0.0.1:3190';
const rounds = Number(process.argv[3] ?? 200);

const signIn = await fetch(`${base}/auth/dev`, {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
  body: 'identity=admin',
});
const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
if (!cookie) throw new Error(`development sign-in failed: ${signIn.status}`);

const times = {};
async function timed(kind, path, form, expect) {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: {
      cookie,
      origin: base,
      accept: form ? 'text/html' : 'application/json',
      ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== expect) throw new Error(`${kind} ${path}: ${res.status}, expected ${expect}`);
  (times[kind] ??= []).push(ms);
}

const pool = {
  'pool.0.name': 'system', 'pool.0.mode': 'system', 'pool.0.vm_size': 'Standard_D2s_v5',
  'pool.0.os_image': 'ubuntu-24.04', 'pool.0.count': '1', 'pool.0.count_slider': '1',
  'pool.0.min': '', 'pool.0.max': '', 'pool.0.labels': '', 'pool.0.taints': '',
};
for (let i = 0; i < rounds; i++) {
  const name = `bench-${i}`;
  await timed('post Basics → Node pools', '/clusters/new?step=basics', {
    name, namespace: 'default', region: 'westeurope', version: 'v1.34.2',
    control_plane: '1', preset: 'dev-test', go: 'next',
  }, 303);
  await timed('page Node pools', '/clusters/new?step=pools', undefined, 200);
  await timed('post Node pools → Tags', '/clusters/new?step=pools', { ...pool, go: 'next' }, 303);
  await timed('post Tags → Review', '/clusters/new?step=tags', { tags: 'team=bench', go: 'next' }, 303);
  await timed('page Review (checks all, YAML)', '/clusters/new?step=review', undefined, 200);
  await timed('post Basics refused (422 page)', '/clusters/new?step=basics', {
    name: 'Bad_Name', namespace: 'default', region: 'westeurope', version: 'v1.34.2',
    control_plane: '1', preset: 'dev-test', go: 'next',
  }, 422);
  await timed('name check (server function)', `/api/clusters/name-check?namespace=default&name=${name}`, undefined, 200);
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
for (const [kind, list] of Object.entries(times)) {
  const s = list.sort((a, b) => a - b);
  console.log(`${kind.padEnd(34)} n=${s.length}  p50 ${pct(s, 50).toFixed(1)} ms  p99 ${pct(s, 99).toFixed(1)} ms  max ${s[s.length - 1].toFixed(1)} ms`);
}
