// validation.vitest.mjs — LangGraph's own checkpointer validation suite
// (@langchain/langgraph-checkpoint-validation, pinned by package-lock.json),
// unchanged, against AgentKVSaver on a real `agentkv serve`.
//
// The suite is run through its documented library entry, validate(), under
// vitest: in 1.1.1 the command-line entry (validate-checkpointer) rejects
// every initializer, because the published package no longer exports the
// schema its argument parser checks them with. ctest:
// clients-langgraph-validation.
import { validate } from '@langchain/langgraph-checkpoint-validation';

import { AgentKVSaver } from '../dist/index.js';
import { startServer } from '../../typescript/test/server.mjs';

let srv;
let n = 0;

validate({
  checkpointerName: 'AgentKVSaver',
  async beforeAll() {
    srv = await startServer();
  },
  beforeAllTimeout: 30000,
  async afterAll() {
    await srv?.stop();
  },
  // Each checkpointer gets a sandbox of its own: the suite requires that
  // one instance never sees another's state.
  createCheckpointer() {
    return new AgentKVSaver({ url: srv.url, token: srv.admin, sandbox: `lgv${n++}` });
  },
  async destroyCheckpointer(saver) {
    await saver.client.clear(saver.scope);
  },
});
