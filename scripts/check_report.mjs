#!/usr/bin/env node
// Opens a `qat report` page in headless Chromium (Debian's /usr/bin/chromium, driven through the DevTools
// protocol on --remote-debugging-pipe, so no npm package is needed) and checks that it works offline:
// no console error or page error, every request other than the page itself aborted and counted (must be
// none), every svg.plot with a non-empty box and at least one data mark, and a full-page screenshot
// 1280 px wide with at least 16 colours and at most 95% of its pixels in the background colour.
// Usage: node scripts/check_report.mjs REPORT.html [--screenshot FILE.png]. Exits 1 with the reasons.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const kWidth = 1280;
const kMinColours = 16;
const kMaxBackground = 0.95;

// A DevTools-protocol client on Chromium's pipe: fd 3 carries commands, fd 4 replies and events, each
// message a JSON text ended by a NUL byte.
class DevTools {
  constructor(child) {
    this.child = child;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.buffer = Buffer.alloc(0);
    child.stdio[4].on('data', (chunk) => this.receive(chunk));
  }

  receive(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (let end; (end = this.buffer.indexOf(0)) >= 0; ) {
      const message = JSON.parse(this.buffer.subarray(0, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
      const waiting = this.pending.get(message.id);
      if (!waiting) {
        for (const listener of this.listeners) listener(message);
        continue;
      }
      this.pending.delete(message.id);
      if (message.error) waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      else waiting.resolve(message.result);
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.nextId++;
    this.child.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject, method }));
  }
}

function launch(profile) {
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'];
  return spawn(process.env.CHROMIUM || '/usr/bin/chromium', flags,
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
}

// Console errors, page errors and requests other than the page; requests are failed, never served.
function watch(tools, sessionId, pageUrl, problems) {
  tools.listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === 'Runtime.consoleAPICalled' && m.params.type === 'error')
      problems.push(`console error: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
    if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
      problems.push(`console error: ${m.params.entry.text}`);
    if (m.method === 'Runtime.exceptionThrown')
      problems.push(`page error: ${m.params.exceptionDetails.text}`);
    if (m.method === 'Fetch.requestPaused') {
      const { requestId, request } = m.params;
      if (request.url === pageUrl) {
        tools.send('Fetch.continueRequest', { requestId }, sessionId);
        return;
      }
      problems.push(`request aborted: ${request.url}`);
      tools.send('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' }, sessionId);
    }
  });
}

async function evaluate(tools, sessionId, expression) {
  const reply = await tools.send('Runtime.evaluate',
    { expression, returnByValue: true, awaitPromise: true }, sessionId);
  if (reply.exceptionDetails) throw new Error(`evaluate: ${reply.exceptionDetails.text}`);
  return reply.result.value;
}

// Every svg.plot: its box and its data marks (gnuplot draws each series in a g#gnuplot_plot_N).
const kPlotsExpression = `[...document.querySelectorAll('svg.plot')].map((svg, index) => {
  const box = svg.getBoundingClientRect();
  const marks = svg.querySelectorAll('g[id^="gnuplot_plot_"] :is(path, use, rect, circle, polygon)').length;
  return { index, width: box.width, height: box.height, marks };
})`;

// The screenshot drawn on a canvas: its width, distinct colours and the share of the commonest colour.
function pixelsExpression(png) {
  return `new Promise((resolve, reject) => {
    const image = new Image();
    image.onerror = () => reject(new Error('screenshot does not decode'));
    image.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const counts = new Map();
      for (let i = 0; i < data.length; i += 4) {
        const colour = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        counts.set(colour, (counts.get(colour) || 0) + 1);
      }
      const background = Math.max(...counts.values()) / (data.length / 4);
      resolve({ width: image.width, height: image.height, colours: counts.size, background });
    };
    image.src = 'data:image/png;base64,${png}';
  })`;
}

function checkPlots(plots, problems) {
  if (plots.length === 0) problems.push('no svg.plot in the page');
  for (const p of plots) {
    if (!(p.width > 0 && p.height > 0)) problems.push(`plot ${p.index}: empty box ${p.width}x${p.height}`);
    if (p.marks === 0) problems.push(`plot ${p.index}: no data mark`);
  }
}

function checkPixels(pixels, problems) {
  if (pixels.width !== kWidth) problems.push(`screenshot ${pixels.width} px wide, expected ${kWidth}`);
  if (pixels.colours < kMinColours) problems.push(`screenshot has ${pixels.colours} colours (< ${kMinColours})`);
  if (pixels.background > kMaxBackground)
    problems.push(`screenshot ${(100 * pixels.background).toFixed(1)}% background (> ${100 * kMaxBackground}%)`);
}

async function check(tools, pageUrl, screenshot) {
  const problems = [];
  const { targetId } = await tools.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await tools.send('Target.attachToTarget', { targetId, flatten: true });
  watch(tools, sessionId, pageUrl, problems);
  for (const domain of ['Runtime.enable', 'Log.enable', 'Page.enable']) await tools.send(domain, {}, sessionId);
  await tools.send('Fetch.enable', { patterns: [{ urlPattern: '*' }] }, sessionId);
  await tools.send('Emulation.setDeviceMetricsOverride',
    { width: kWidth, height: 800, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = new Promise((done) => tools.listeners.push(
    (m) => m.sessionId === sessionId && m.method === 'Page.loadEventFired' && done()));
  await tools.send('Page.navigate', { url: pageUrl }, sessionId);
  await loaded;
  const plots = await evaluate(tools, sessionId, kPlotsExpression);
  checkPlots(plots, problems);
  const layout = await tools.send('Page.getLayoutMetrics', {}, sessionId);
  const height = Math.ceil(layout.cssContentSize.height);
  const shot = await tools.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true,
    clip: { x: 0, y: 0, width: kWidth, height, scale: 1 } }, sessionId);
  if (screenshot) writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
  const pixels = await evaluate(tools, sessionId, pixelsExpression(shot.data));
  checkPixels(pixels, problems);
  return { problems, plots: plots.length, pixels };
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--screenshot');
  const screenshot = at >= 0 ? args[at + 1] : null;
  const page = args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1));
  if (!page) throw new Error('usage: node scripts/check_report.mjs REPORT.html [--screenshot FILE.png]');
  const profile = mkdtempSync(join(tmpdir(), 'qat-chromium-'));
  const child = launch(profile);
  const spawned = new Promise((_, reject) => child.on('error', (e) => reject(new Error(`chromium: ${e.message}`))));
  try {
    const tools = new DevTools(child);
    const result = await Promise.race([check(tools, pathToFileURL(resolve(page)).href, screenshot), spawned]);
    console.log(JSON.stringify({ page, plots: result.plots, ...result.pixels, problems: result.problems }));
    return result.problems.length === 0 ? 0 : 1;
  } finally {
    const exited = child.exitCode !== null ? Promise.resolve() : new Promise((done) => child.once('exit', done));
    child.kill();
    await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().then((code) => process.exit(code), (e) => {
  console.error(`check_report: ${e.message}`);
  process.exit(1);
});
