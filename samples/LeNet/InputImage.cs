using System;
using System.Collections.Generic;
using System.IO;
using GraphGen.Data;

namespace GraphGen.Samples;

/// <summary>The image of 'lenet predict --image': a PNG (grey-scale, RGB or palette, 8-bit; colour is converted to
/// luminance as PIL's convert("L")) or a binary PGM (P5), told apart by their first bytes, not by the file name.
/// It must already be 28x28 (a light object on a dark background, as FashionMNIST): resizing is left to the
/// user's tools, which know the picture.</summary>
internal static class InputImage
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Planar bytes of the network's input shape [C, H, W].</summary>
    public static byte[] Read(string path, IReadOnlyList<int> shape)
    {
        GraphGen.Checkpoints.AtomicFile.RequireRegularFile(path); // a FIFO would block forever
        Span<byte> head = stackalloc byte[8];
        int read;
        using (FileStream stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (head.SequenceEqual(PngSignature)) return PngImage.Read(path, shape);
        if (head.StartsWith("P5"u8)) return Pgm.Read(path, shape[1], shape[2]);
        throw new InvalidDataException($"{path} is neither a PNG nor a binary PGM (P5) image" +
            (head.StartsWith("P2"u8) ? " (it is a plain-text PGM, P2: save it as binary, e.g. convert in.pgm out.png)" : ""));
    }
}
