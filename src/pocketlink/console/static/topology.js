// pocketlink console, the topology page: polls the JSON feed named by the page's
// section[data-feed] and rewrites every [data-figure] (the drawing's and the table's) in
// place, without reloading. The feed's reads run in the daemon: a slow answer (many
// accounts, a busy machine) spaces the next one out, so an open page takes at most a
// third of the daemon's time.
"use strict";
(() => {
  const page = document.querySelector("section.topology-page[data-feed]");
  if (!page) return;
  const feed = page.dataset.feed;
  const every = Number(page.dataset.every);
  async function refresh() {
    const started = performance.now();
    try {
      const answer = await fetch(feed, {cache: "no-store"});
      if (answer.ok) {
        const {figures} = await answer.json();
        for (const node of document.querySelectorAll("[data-figure]")) {
          const text = figures[node.dataset.figure];
          if (text !== undefined && node.textContent !== text) node.textContent = text;
        }
        document.body.dataset.feedAt = String(Date.now());
      }
    } catch (error) { /* the daemon restarting: the next turn tries again */ }
    setTimeout(refresh, Math.max(every, 2 * (performance.now() - started)));
  }
  setTimeout(refresh, every);
})();
