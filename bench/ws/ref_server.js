// Reference server for the WebSocket benchmark: Node's `ws` answering each user_message with
// the same five frames mockd's benchmark dialogue sends (typing_start, two chunks, typing_stop,
// agent_response), each built with JSON.stringify as a real server would.
// usage: node ref_server.js PORT
const { WebSocketServer } = require('ws');
const port = Number(process.argv[2] || 9001);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false });
let n = 0;
wss.on('connection', (sock) => {
  sock.send(JSON.stringify({ type: 'system', data: { event: 'welcome', sessionId: 'sess_0000000001', timestamp: Date.now() } }));
  sock.on('message', (buf) => {
    let m;
    try { m = JSON.parse(buf); } catch (e) { return; }
    const replyTo = m.data && m.data.messageId;
    const id = 's_' + (++n);
    const agent = 'pe_engineer';
    const ts = Date.now();
    sock.send(JSON.stringify({ type: 'typing_start', data: { agent, replyTo, timestamp: ts } }));
    sock.send(JSON.stringify({ type: 'agent_response_chunk', data: { messageId: id, agent, replyTo, index: 0, delta: 'You are a patient ', final: false, timestamp: ts } }));
    sock.send(JSON.stringify({ type: 'agent_response_chunk', data: { messageId: id, agent, replyTo, index: 1, delta: 'math tutor.', final: true, timestamp: ts } }));
    sock.send(JSON.stringify({ type: 'typing_stop', data: { agent, replyTo, timestamp: ts } }));
    sock.send(JSON.stringify({ type: 'agent_response', data: { messageId: id, agent, replyTo, message: 'You are a patient math tutor.', timestamp: ts } }));
  });
});
console.log(`listening on ws://127.0.0.1:${port}`);
