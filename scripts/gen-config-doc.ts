/** Writes docs/configuration.md from the configuration schema: `npm run docs:config`. */
import { writeFile } from 'node:fs/promises';
import { renderConfigurationDoc } from '../src/config/doc.js';

const target = new URL('../docs/configuration.md', import.meta.url);
await writeFile(target, renderConfigurationDoc());
process.stdout.write(`wrote ${target.pathname}\n`);
