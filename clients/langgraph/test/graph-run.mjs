// graph-run.mjs — one process of the interrupt-and-resume test (graph.test.mjs):
//
//   node graph-run.mjs start|resume URL TOKEN SANDBOX THREAD
//
// builds the same small StateGraph (no language model) on AgentKVSaver and
// AgentKVStore each time, runs one phase and prints one JSON line saying
// where the graph stopped.
//   start:  runs from the input until `review` calls interrupt().
//   resume: answers the interrupt (Command resume), stops before `publish`
//           (interruptBefore), then continues with invoke(null) to the end.
//   state:  only reads the thread's state.
// Nothing is shared between the processes but the agentkv server.
import { Annotation, Command, END, START, StateGraph, interrupt } from '@langchain/langgraph';

import { AgentKVSaver, AgentKVStore } from '../dist/index.js';

const [phase, url, token, sandbox, thread] = process.argv.slice(2);
const saver = new AgentKVSaver({ url, token, sandbox });
const store = new AgentKVStore({ url, token, sandbox });

const State = Annotation.Root({
  topic: Annotation(),
  draft: Annotation(),
  verdict: Annotation(),
  log: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

const graph = new StateGraph(State)
  .addNode('plan', async (s, config) => {
    await config.store.put(['notes', s.topic], 'plan', { steps: 2, pid: process.pid });
    return { draft: `draft about ${s.topic}`, log: [`plan@${process.pid}`] };
  })
  .addNode('review', (s) => {
    const verdict = interrupt({ question: `publish "${s.draft}"?` });
    return { verdict, log: [`review@${process.pid}`] };
  })
  .addNode('publish', async (s, config) => {
    const note = await config.store.get(['notes', s.topic], 'plan');
    return { log: [`publish@${process.pid} steps=${note.value.steps} by=${note.value.pid}`] };
  })
  .addEdge(START, 'plan')
  .addEdge('plan', 'review')
  .addEdge('review', 'publish')
  .addEdge('publish', END)
  .compile({ checkpointer: saver, store, interruptBefore: ['publish'] });

const config = { configurable: { thread_id: thread } };
const out = { phase, pid: process.pid };
if (phase === 'start') {
  const r = await graph.invoke({ topic: 'agentkv' }, config);
  out.interrupt = r.__interrupt__?.map((i) => i.value) ?? null;
} else if (phase === 'resume') {
  await graph.invoke(new Command({ resume: 'yes' }), config);
  out.before = (await graph.getState(config)).next;
  const r = await graph.invoke(null, config);
  out.final = { draft: r.draft, verdict: r.verdict, log: r.log };
} else if (phase === 'state') {
  out.values = (await graph.getState(config)).values;
} else {
  throw new Error(`unknown phase ${phase}`);
}
out.next = (await graph.getState(config)).next;
process.stdout.write(`${JSON.stringify(out)}\n`);
