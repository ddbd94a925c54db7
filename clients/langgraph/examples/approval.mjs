// approval.mjs — a LangGraph.js graph whose state and memory live in agentkv.
//
//   AGENTKV_URL=http://127.0.0.1:8420 AGENTKV_TOKEN=akv_... node examples/approval.mjs
//
// The graph drafts a reply, stops for a human's approval (interrupt()), and
// is resumed by a second graph object — as a second process or a restarted
// server would do: nothing but agentkv carries the state across. The store
// remembers the user's preferred tone between threads.
import { Annotation, Command, END, START, StateGraph, interrupt } from '@langchain/langgraph';
import { AgentKVSaver, AgentKVStore } from '@agentkv/langgraph';

const State = Annotation.Root({
  request: Annotation(),
  draft: Annotation(),
  approved: Annotation(),
});

function build() {
  return new StateGraph(State)
    .addNode('write', async (s, config) => {
      const tone = (await config.store.get(['prefs', 'user-1'], 'tone'))?.value.tone ?? 'neutral';
      return { draft: `(${tone}) Re: ${s.request}` };
    })
    .addNode('approve', (s) => ({ approved: interrupt({ draft: s.draft }) }))
    .addEdge(START, 'write')
    .addEdge('write', 'approve')
    .addEdge('approve', END)
    .compile({
      checkpointer: new AgentKVSaver({ sandbox: 'example' }), // scope "task" by default
      store: new AgentKVStore({ sandbox: 'example' }), // scope "project" by default
    });
}

await new AgentKVStore({ sandbox: 'example' }).put(['prefs', 'user-1'], 'tone', { tone: 'friendly' });
const config = { configurable: { thread_id: `ticket-${Date.now()}` } };

const first = await build().invoke({ request: 'refund for order 42' }, config);
console.log('interrupted:', JSON.stringify(first.__interrupt__.map((i) => i.value)));

const done = await build().invoke(new Command({ resume: true }), config);
console.log('approved:', done.approved, '-', done.draft);
