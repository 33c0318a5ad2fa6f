// tests/node/langchain_load.mjs FILE - what LangChain's own JSONLinesLoader
// (@langchain/classic/document_loaders/fs/json, LangChain 1.x's home of the
// loaders that were in the langchain package) makes of kairan's langchain
// export: the documents' text as loaded through /page_content, and the
// ids through /id, one JSON object per document on stdout.
import { JSONLinesLoader } from "@langchain/classic/document_loaders/fs/json";

const file = process.argv[2];
const texts = await new JSONLinesLoader(file, "/page_content").load();
const ids = await new JSONLinesLoader(file, "/id").load();
if (texts.length !== ids.length) {
	console.error(`page_content gave ${texts.length} documents, id gave ${ids.length}`);
	process.exit(1);
}
for (let i = 0; i < texts.length; i++)
	console.log(JSON.stringify({ id: ids[i].pageContent, text: texts[i].pageContent, line: texts[i].metadata.line }));
