// Preloaded into Portkey's gateway by bench/gateway-comparison.ts. Portkey 1.15.2 cannot stream on
// Node 20: it appends headers to the Response that fetch() returned, whose headers are immutable
// ("TypeError: immutable", Portkey-AI/gateway#1389 and #1550). Re-wrapping each fetch() answer
// in a new Response, as the fix proposed there does inside Portkey, makes its headers mutable.
const upstreamFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const response = await upstreamFetch(input, init);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: new Headers(response.headers),
  });
};
