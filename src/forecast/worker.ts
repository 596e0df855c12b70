/** The forecast worker thread: fits run here, off the server's event loop. One message = a list of series. */
import { parentPort } from 'node:worker_threads';
import { runForecastJobs, type ForecastJobMessage } from './jobs.js';

parentPort!.on('message', (message: ForecastJobMessage) => {
  parentPort!.postMessage(runForecastJobs(message));
});
