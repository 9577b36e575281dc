// The explanation panels below the fold. Placeholder wiring until the panels land:
// selecting an edge opens the weight editor.

export function initPanels({ editWeight }) {
  return {
    onFrame() {},
    onStructure() {},
    selectNode() {},
    selectEdge(l, i, j, w) { editWeight(l, i, j, w); },
  };
}
