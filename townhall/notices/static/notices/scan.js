/* Scan a recall's batch code from a photo, on the page: nothing is uploaded.
 *
 * The form works without this script (type the code). With it, a resident can choose or
 * take a photo of the barcode or QR code; it is decoded here with the browser's
 * BarcodeDetector where it has one, otherwise with the ZXing library served from our own
 * static files (loaded only when needed), and the code found is put in the field and the
 * form sent, so the answer comes at once.
 */
(function () {
  "use strict";
  var scan = document.getElementById("scan");
  var input = document.getElementById("scan-photo");
  var field = document.getElementById("id_code");
  var form = document.getElementById("code-form");
  var status = document.getElementById("scan-status");
  if (!scan || !input || !field || !form || !status || !window.createImageBitmap) {
    return;
  }
  scan.hidden = false;

  function say(text) {
    status.textContent = text;
  }

  function withNative(bitmap) {
    if (!("BarcodeDetector" in window)) {
      return Promise.resolve(null);
    }
    return new window.BarcodeDetector()
      .detect(bitmap)
      .then(function (found) {
        return found.length ? found[0].rawValue : null;
      })
      .catch(function () {
        return null;
      });
  }

  var decoderLoading = null;
  function decoder() {
    if (window.ZXing) {
      return Promise.resolve(window.ZXing);
    }
    if (!decoderLoading) {
      decoderLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = scan.getAttribute("data-decoder");
        script.onload = function () {
          resolve(window.ZXing);
        };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return decoderLoading;
  }

  function withZxing(bitmap) {
    return decoder().then(function (ZXing) {
      var canvas = document.createElement("canvas");
      // Large photos are scaled down: a barcode stays readable, decoding stays quick.
      var scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      var hints = new Map();
      hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
      var reader = new ZXing.MultiFormatReader();
      reader.setHints(hints);
      var source = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
      try {
        return reader.decode(new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(source))).getText();
      } catch (e) {
        return null;
      }
    });
  }

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) {
      return;
    }
    say(scan.getAttribute("data-reading"));
    createImageBitmap(file)
      .then(function (bitmap) {
        return withNative(bitmap).then(function (code) {
          return code || withZxing(bitmap);
        });
      })
      .then(function (code) {
        if (!code) {
          say(scan.getAttribute("data-none"));
          return;
        }
        field.value = code.trim().slice(0, 200);
        say(scan.getAttribute("data-found").replace("%(code)s", field.value));
        form.submit();
      })
      .catch(function () {
        say(scan.getAttribute("data-none"));
      });
  });
})();
