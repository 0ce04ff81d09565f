// The simulated module's page: the paper as it prints, the receipts torn off, the lights,
// the buttons and the journal. Everything arrives as server-sent events (/events); the
// buttons POST to /api/press. Plain JavaScript, no build step.
"use strict";

const ROW_BYTES = 48;
const WIDTH = 384;
const MAX_CANVAS_ROWS = 32000; // taller receipts are shown from their PNG

const $ = (id) => document.getElementById(id);

// The paper since the last tear-off: its dot lines, one bit a dot (1 = burnt).
const paper = {
  data: new Uint8Array(ROW_BYTES * 1024),
  rows: 0,
  whole: true, // every dot line since the last tear-off is here
  dirty: true,
  append(bytes) {
    const need = (this.rows * ROW_BYTES) + bytes.length;
    if (need > this.data.length) {
      let size = this.data.length;
      while (size < need) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.data.subarray(0, this.rows * ROW_BYTES));
      this.data = grown;
    }
    this.data.set(bytes, this.rows * ROW_BYTES);
    this.rows += bytes.length / ROW_BYTES;
    this.dirty = true;
  },
  take() {
    const rows = this.data.slice(0, this.rows * ROW_BYTES);
    this.rows = 0;
    this.whole = true;
    this.dirty = true;
    return rows;
  },
};

let powered = false;

function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Dot lines into image data: burnt dots black, the rest paper white.
function dotsToImage(ctx, bytes, firstRow, rows) {
  const image = ctx.createImageData(WIDTH, Math.max(rows, 1));
  const px = image.data;
  px.fill(255);
  for (let r = 0; r < rows; r++) {
    const src = (firstRow + r) * ROW_BYTES;
    for (let b = 0; b < ROW_BYTES; b++) {
      const byte = bytes[src + b];
      if (!byte) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (byte & (0x80 >> bit)) {
          const o = ((r * WIDTH) + (b * 8) + bit) * 4;
          px[o] = px[o + 1] = px[o + 2] = 0;
        }
      }
    }
  }
  return image;
}

function receiptCanvas(bytes) {
  const rows = bytes.length / ROW_BYTES;
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = Math.max(rows, 1);
  const ctx = canvas.getContext("2d");
  ctx.putImageData(dotsToImage(ctx, bytes, 0, rows), 0, 0);
  return canvas;
}

// The paper in the window: its newest line at the bottom, at the head, older lines above,
// as paper leaves a printer.
function drawPaper() {
  if (paper.dirty) {
    paper.dirty = false;
    const canvas = $("paper");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const shown = Math.min(paper.rows, canvas.height);
    if (shown) {
      const image = dotsToImage(ctx, paper.data, paper.rows - shown, shown);
      ctx.putImageData(image, 0, canvas.height - shown);
    }
    canvas.dataset.rows = String(paper.rows);
    const note = $("paper-note");
    note.hidden = paper.whole;
    note.textContent = paper.whole ? "" : "some dot lines of this receipt were not streamed";
  }
  requestAnimationFrame(drawPaper);
}

function addReceipt(entry, canvas) {
  const li = document.createElement("li");
  li.className = "receipt";
  const image = document.createElement("div");
  image.className = "image";
  let title;
  let href;
  let name;
  if (entry.number == null) {
    li.classList.add("stub");
    title = "paper left in the module at the power cut";
    href = canvas.toDataURL("image/png");
    name = "power-cut-paper.png";
  } else {
    li.dataset.number = String(entry.number);
    li.dataset.streamed = canvas ? "yes" : "no";
    title = `receipt-${String(entry.number).padStart(4, "0")}.png`;
    href = entry.url;
    name = title;
  }
  if (canvas) {
    canvas.className = "receipt-image";
    image.append(canvas);
  } else {
    const img = document.createElement("img");
    img.src = entry.url;
    img.alt = title;
    img.className = "receipt-image";
    image.append(img);
  }
  image.addEventListener("click", () => view(title, href, name, canvas));
  const caption = document.createElement("div");
  caption.className = "caption";
  const label = document.createElement("span");
  label.textContent = title;
  const link = document.createElement("a");
  link.href = href;
  link.download = name;
  link.textContent = "download PNG";
  caption.append(label, link);
  li.append(image, caption);
  $("receipts").prepend(li);
}

function tear(entry) {
  const rows = paper.take();
  const streamed = entry.streamed && rows.length / ROW_BYTES <= MAX_CANVAS_ROWS;
  addReceipt(entry, streamed ? receiptCanvas(rows) : null);
}

function view(title, href, name, canvas) {
  $("viewer-title").textContent = title;
  const holder = $("viewer-image");
  holder.replaceChildren();
  if (canvas) {
    const copy = document.createElement("img");
    copy.src = canvas.toDataURL("image/png");
    holder.append(copy);
  } else {
    const img = document.createElement("img");
    img.src = href;
    holder.append(img);
  }
  const download = $("viewer-download");
  download.href = href;
  download.download = name;
  $("viewer").showModal();
}

// ---- lights and buttons ------------------------------------------------------------------

function light(name, on) {
  $("light-" + name).classList.toggle("on", Boolean(on));
}

function showStatus(status) {
  const flags = status ? status.flags : [];
  light("power", powered);
  light("online", status && status.online);
  light("near_end", status && status.near_end);
  light("paper_out", flags.includes("paper_out"));
  light("cover_open", flags.includes("cover_open"));
  light("overheat", flags.includes("overheat"));
  light("error", status && status.error);
  $("head-c").textContent = status ? `${status.head_c} °C` : "–";
}

function showPower(on, why) {
  powered = on;
  $("module").classList.toggle("off", !on);
  for (const button of document.querySelectorAll("#buttons button")) {
    button.disabled = (button.dataset.off === "yes") === on;
  }
  light("power", on);
  if (!on) showStatus(null);
  $("message").textContent = on ? "" : `off: ${why || "no power"}`;
}

async function press(button) {
  $("message").textContent = "";
  const reply = await fetch("/api/press", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({button}),
  });
  if (!reply.ok) {
    const answer = await reply.json().catch(() => ({error: reply.statusText}));
    $("message").textContent = answer.error;
  }
}

for (const button of document.querySelectorAll("#buttons button")) {
  button.addEventListener("click", () => press(button.dataset.press));
}

// ---- the journal ---------------------------------------------------------------------------

function showJournal(rows) {
  const body = $("journal-rows");
  body.replaceChildren();
  $("journal-empty").hidden = rows.length > 0;
  for (const row of rows.slice().reverse()) {
    const tr = document.createElement("tr");
    tr.dataset.number = String(row.number);
    tr.dataset.state = row.state;
    const cells = [
      String(row.number),
      row.time ? new Date(row.time * 1000).toLocaleString() : "–", // no time before its end
      null,
      row.first_line,
    ];
    for (const text of cells) {
      const td = document.createElement("td");
      if (text === null) {
        const state = document.createElement("span");
        state.className = `state ${row.state}`;
        state.textContent = row.state;
        td.append(state);
      } else {
        td.textContent = text;
      }
      tr.append(td);
    }
    const actions = document.createElement("td");
    actions.className = "actions";
    const url = `/journal/${row.number}.png`;
    const name = `journal-${String(row.number).padStart(4, "0")}.png`;
    const show = document.createElement("button");
    show.textContent = "view";
    show.addEventListener("click", () => view(`journal receipt ${row.number}`, url, name, null));
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.textContent = "PNG";
    actions.append(show, link);
    tr.append(actions);
    body.append(tr);
  }
}

// ---- the stream ----------------------------------------------------------------------------

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("hello", (e) => {
    const state = JSON.parse(e.data);
    $("info").textContent =
      `ESC/POS on ${state.data_port} · ${state.time} time`;
    $("receipts").replaceChildren();
    for (const entry of state.receipts) addReceipt(entry, null);
    paper.take();
    paper.append(decode(state.paper));
    paper.whole = state.paper_whole;
    showPower(state.power, "");
    showStatus(state.status);
    showJournal(state.journal);
  });
  events.addEventListener("rows", (e) => paper.append(decode(e.data)));
  events.addEventListener("gap", () => {
    paper.whole = false;
    paper.dirty = true;
  });
  events.addEventListener("tear", (e) => tear(JSON.parse(e.data)));
  events.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
  events.addEventListener("journal", (e) => showJournal(JSON.parse(e.data)));
  events.addEventListener("power", (e) => {
    const power = JSON.parse(e.data);
    if (power.on && paper.rows) {
      // The new module starts on fresh paper: what the old one left is torn off by hand.
      addReceipt({number: null}, receiptCanvas(paper.take()));
    }
    showPower(power.on, power.why);
  });
  events.onerror = () => {
    $("info").textContent = "reconnecting…";
  };
}

connect();
requestAnimationFrame(drawPaper);
