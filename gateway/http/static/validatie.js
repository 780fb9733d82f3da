// The validation page: read a dropped or chosen file, POST it to /v1/validaties, list every finding and mark
// its line in the message. The message stays in this page and that one request; nothing is stored. Text is
// only ever set with textContent (a message is data, never markup).
"use strict";
(function () {
  const form = document.getElementById("validate");
  const fileInput = document.getElementById("file");
  const drop = document.getElementById("drop");
  let dropped = null;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value === null || value === undefined ? "" : String(value);
    if (cls) el.className = cls;
    return el;
  }

  function showMessage(name, content, findings) {
    const byLine = new Map();
    for (const f of findings) {
      if (f.line) byLine.set(f.line, (byLine.get(f.line) || []).concat([f]));
    }
    const list = document.getElementById("lines");
    list.replaceChildren();
    content.split(/\r?\n/).forEach(function (line, i) {
      const item = text("li", line === "" ? " " : line);
      item.id = "line-" + (i + 1);
      const here = byLine.get(i + 1);
      if (here) {
        item.className = "marked";
        item.title = here.map(function (f) { return (f.rule || f.code) + ": " + f.text; }).join("\n");
      }
      list.appendChild(item);
    });
    document.getElementById("name").textContent = name;
    document.getElementById("source").hidden = false;
  }

  function showVerdict(answer) {
    const verdict = document.getElementById("verdict");
    const what = answer.message ? answer.message + " (" + answer.standard + " " + answer.release + ")" : "not a standard message";
    verdict.textContent = answer.valid
      ? "Valid: " + what + " would be accepted (202)"
      : "Refused: " + what + " would get " + answer.status + " " + answer.code + " with " + answer.errors.length + " finding(s)";
    verdict.className = answer.valid ? "ok" : "bad";
    const body = document.querySelector("#findings tbody");
    body.replaceChildren();
    for (const f of answer.errors) {
      const row = document.createElement("tr");
      row.className = "finding";
      const line = text("td", f.line || "", "num");
      if (f.line) {
        const link = text("a", f.line);
        link.href = "#line-" + f.line;
        line.replaceChildren(link);
      }
      row.append(line, text("td", f.code), text("td", f.rule || (f.kind === "xsd" ? "XSD" : "")),
        text("td", f.retourcode || ""), text("td", f.path || ""), text("td", f.text));
      body.appendChild(row);
    }
    document.getElementById("result").hidden = false;
  }

  async function validate(file) {
    const content = await file.text();
    const headers = { "Content-Type": "application/xml" };
    const token = document.getElementById("token").value.trim();
    if (token) headers["Authorization"] = "Bearer " + token;
    const response = await fetch("/v1/validaties", { method: "POST", headers: headers, body: content, credentials: "same-origin" });
    const answer = await response.json();
    if (!response.ok) {
      showVerdict({ valid: false, status: response.status, code: answer.code, message: null, errors: answer.errors || [] });
      document.getElementById("source").hidden = true;
      return;
    }
    showVerdict(answer);
    showMessage(file.name, content, answer.errors);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const file = dropped || (fileInput.files && fileInput.files[0]);
    if (file) validate(file);
  });
  fileInput.addEventListener("change", function () { dropped = null; });
  drop.addEventListener("dragover", function (event) { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer.files && event.dataTransfer.files[0];
    if (file) { dropped = file; drop.textContent = file.name; validate(file); }
  });
})();
