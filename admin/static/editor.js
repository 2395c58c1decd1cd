// The variable picker: clicking a variable inserts it into the text at the cursor, then the
// preview follows (htmx listens to the textarea's input events).
document.addEventListener("click", function (event) {
  var chip = event.target.closest("[data-var]");
  var box = document.getElementById("body");
  if (!chip || !box) return;
  var insert = "{{ " + chip.getAttribute("data-var") + " }}";
  var at = box.selectionStart || box.value.length;
  box.value = box.value.slice(0, at) + insert + box.value.slice(box.selectionEnd || at);
  box.focus();
  box.selectionStart = box.selectionEnd = at + insert.length;
  box.dispatchEvent(new Event("input", { bubbles: true }));
});

// The language menu in the header applies the language as soon as one is picked.
document.addEventListener("change", function (event) {
  if (event.target.matches("form.language select")) event.target.form.submit();
});
