// Parses Prometheus text exposition from stdin with a third-party parser; prints the families as JSON.
import parse from 'parse-prometheus-text-format';

let text = '';
for await (const chunk of process.stdin) text += chunk;
console.log(JSON.stringify(parse(text)));
