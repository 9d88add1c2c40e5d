/* Recipients page: filter the people list, and ask for confirmation only when @all is ticked. */
(function () {
  "use strict";

  var filter = document.getElementById("user-filter");
  var select = document.getElementById("users");
  if (filter && select) {
    filter.addEventListener("input", function () {
      var words = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option) {
        option.hidden = words !== "" && option.text.toLowerCase().indexOf(words) === -1 && !option.selected;
      });
    });
  }

  var everyone = document.getElementById("everyone");
  var confirmBox = document.getElementById("confirm-everyone");
  if (everyone && confirmBox) {
    var sync = function () { confirmBox.hidden = !everyone.checked; };
    everyone.addEventListener("change", sync);
    sync();
  }
})();
