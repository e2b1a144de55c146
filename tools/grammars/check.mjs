// Reads [{"lang": "logql"|"traceql", "query": "..."}] on stdin; prints one error message
// per query ("" when the grammar accepts it), as a JSON list.
import { parser as logql } from "@grafana/lezer-logql";
import { parser as traceql } from "@grafana/lezer-traceql";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const queries = JSON.parse(Buffer.concat(chunks).toString());
const parsers = { logql, traceql };
const out = queries.map(({ lang, query }) => {
  const parser = parsers[lang];
  if (!parser) return `unknown language ${lang}`;
  const tree = parser.parse(query);
  let error = "";
  tree.iterate({
    enter: (node) => {
      if (node.type.isError && !error) error = `syntax error at ${node.from}: ${JSON.stringify(query.slice(node.from, node.from + 20))}`;
    },
  });
  return error;
});
process.stdout.write(JSON.stringify(out));
