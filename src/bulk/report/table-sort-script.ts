/**
 * The report page's only script: clicking a column header of the accounts table sorts its rows by
 * that column's cells' data-value (numbers as numbers: the State column holds STATE_RANK, Size the
 * bytes, Duration the milliseconds), ascending first, again for descending. Cells without a value
 * go last either way; equal values keep their current order. Plain ES2017 so any browser runs it,
 * and the page is complete without it (the rows are already failures first).
 */
export const TABLE_SORT_SCRIPT = `
(function () {
  'use strict';
  var table = document.getElementById('accounts');
  if (!table) return;
  var headers = table.querySelectorAll('th[data-sort]');
  for (var i = 0; i < headers.length; i++) headers[i].addEventListener('click', onHeaderClick);

  function onHeaderClick(event) {
    var th = event.currentTarget;
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    sortRows(th.cellIndex, th.getAttribute('data-sort') === 'number', ascending);
    for (var j = 0; j < headers.length; j++) headers[j].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  }

  function sortRows(column, numeric, ascending) {
    var body = table.tBodies[0];
    var keyed = Array.prototype.map.call(body.rows, function (row, index) {
      var raw = row.cells[column].getAttribute('data-value');
      var missing = raw === null || raw === '';
      return { row: row, index: index, missing: missing, value: missing ? null : numeric ? Number(raw) : raw };
    });
    keyed.sort(function (a, b) {
      if (a.missing !== b.missing) return a.missing ? 1 : -1;
      var c = a.missing || a.value === b.value ? 0 : a.value < b.value ? -1 : 1;
      return (ascending ? c : -c) || a.index - b.index;
    });
    for (var k = 0; k < keyed.length; k++) body.appendChild(keyed[k].row);
  }
})();
`;
