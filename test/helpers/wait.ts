/** Polling for what a gateway does in its own time (a cut stream, a counter that moves). */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `check` came true within `ms` (polled every 25 ms; checked once more at the end). */
export async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(25);
  }
  return check();
}

/** The gateway's `abproxy_requests_total` for one status, summed over its other labels' first series. */
export async function requestsWithStatus(url: string, status: number): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const line = text
    .split('\n')
    .find((l) => l.startsWith('abproxy_requests_total{') && l.includes(`status="${status}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}
