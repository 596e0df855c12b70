// node --import tsx --import ./test/helpers/record-loads.mjs …: records the URL of every module loaded
// (through a module.register load hook) into globalThis.__netpulseLoaded, for the "off costs nothing" checks.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
globalThis.__netpulseLoaded = [];
port1.on('message', (url) => globalThis.__netpulseLoaded.push(url));
port1.unref();
const hooks = `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] });
