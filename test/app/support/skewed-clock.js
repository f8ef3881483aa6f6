// Preloaded into the service under test (NODE_OPTIONS=--require …): shifts this process's Date.now by
// CLOCK_SKEW_MS, as a host whose clock drifted. Node's timers are not affected, as with a real skewed clock.
const skewMs = Number(process.env.CLOCK_SKEW_MS ?? 0);
const realNow = Date.now;
Date.now = () => realNow() + skewMs;
