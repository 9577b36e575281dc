// The page's entry module. The HTML already shows the network (the server draws the
// diagram, its heatmaps and numbers: app/web/preview.py), so the first paint must not
// wait for the page's scripts to run: they are imported after that paint (their files
// are already fetched and compiled: <link rel=modulepreload>).

requestAnimationFrame(() => setTimeout(() => import("./main.js")));
