// The VS Code side of Consilium: starts `consilium lsp` for .rules files and talks to it over stdio.
// Everything the editor shows (diagnostics, hover, completion, rename, ...) comes from the server;
// the command that starts it is the setting consilium.command (+ consilium.args).
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("consilium");
  const server = {
    command: config.get("command", "consilium"),
    args: config.get("args", ["lsp"]),
    transport: TransportKind.stdio,
  };
  client = new LanguageClient(
    "consilium",
    "Consilium rules",
    { run: server, debug: server },
    {
      documentSelector: [{ language: "consilium-rules" }],
      synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.rules") },
    },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
