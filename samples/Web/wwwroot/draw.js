// The drawing canvas: white strokes on black (FashionMNIST's polarity), read back as 28x28 bytes.
export function init(canvas) {
    clear(canvas);
    const ctx = canvas.getContext("2d");
    let drawing = false;
    const at = e => { const r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; };
    canvas.addEventListener("pointerdown", e => {
        drawing = true;
        canvas.setPointerCapture(e.pointerId);
        ctx.beginPath();
        ctx.moveTo(...at(e));
    });
    canvas.addEventListener("pointermove", e => {
        if (!drawing) return;
        ctx.lineTo(...at(e));
        ctx.stroke();
    });
    canvas.addEventListener("pointerup", () => { drawing = false; });
}

export function clear(canvas) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = ctx.lineJoin = "round";
}

// The drawing's bounding box, made square and centred, scaled to 28x28 (FashionMNIST's objects fill the frame).
export function read(canvas) {
    const w = canvas.width, h = canvas.height;
    const data = canvas.getContext("2d").getImageData(0, 0, w, h).data;
    let x0 = w, y0 = h, x1 = -1, y1 = -1;
    for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
            if (data[(y * w + x) * 4] > 0) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    if (x1 < 0) { x0 = 0; y0 = 0; x1 = w - 1; y1 = h - 1; }
    const side = Math.max(x1 - x0, y1 - y0) + 1, cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const sctx = small.getContext("2d");
    sctx.fillStyle = "#000";
    sctx.fillRect(0, 0, 28, 28);
    sctx.imageSmoothingEnabled = true;
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(canvas, cx - side / 2, cy - side / 2, side, side, 1, 1, 26, 26);
    const rgba = sctx.getImageData(0, 0, 28, 28).data, pixels = new Uint8Array(784);
    for (let i = 0; i < 784; i++) pixels[i] = rgba[i * 4];
    return pixels;
}

// Shows 28x28 bytes on a canvas of any size (pixelated).
export function show(canvas, pixels) {
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const sctx = small.getContext("2d"), image = sctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) { image.data.set([pixels[i], pixels[i], pixels[i], 255], i * 4); }
    sctx.putImageData(image, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
}
