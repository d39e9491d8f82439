// Container health probe: exit 0 when the URL (default: the API's /health) answers 2xx within 4 s.
// The Dockerfile's HEALTHCHECK and docker-compose.yml (API and worker) run it; it needs only Node.
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT || 3000}/health`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
