using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace GraphGen.Tests.Data;

/// <summary>A tiny PNG encoder for tests, written from the specification independently of the runtime's decoder
/// (its own bitwise CRC-32, its own filters); SkiaSharp decoding its output checks it.</summary>
internal static class PngWriter
{
    /// <param name="samples">Rows of width * channels bytes, interleaved as the color type has them (palette: one index per pixel).</param>
    /// <param name="filter">Filter type of each row (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth); null: row y uses y % 5.</param>
    public static byte[] Encode(int width, int height, int colorType, byte[] samples, byte[]? palette = null,
        Func<int, int>? filter = null, int bitDepth = 8, int interlace = 0, Action<MemoryStream>? extraChunks = null)
    {
        int bpp = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => 1 };
        int stride = width * bpp;
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            int f = filter?.Invoke(y) ?? y % 5;
            raw.WriteByte((byte)f);
            for (int i = 0; i < stride; i++)
            {
                int x = samples[y * stride + i];
                int a = i >= bpp ? samples[y * stride + i - bpp] : 0;
                int b = y > 0 ? samples[(y - 1) * stride + i] : 0;
                int c = i >= bpp && y > 0 ? samples[(y - 1) * stride + i - bpp] : 0;
                int predicted = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => Paeth(a, b, c) };
                raw.WriteByte((byte)(x - predicted));
            }
        }
        var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw.ToArray());

        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = (byte)bitDepth; header[9] = (byte)colorType; header[12] = (byte)interlace;
        Chunk(png, "IHDR", header);
        if (palette is not null) Chunk(png, "PLTE", palette);
        extraChunks?.Invoke(png);
        byte[] data = zlib.ToArray();
        // Two IDAT chunks: the decoder must concatenate them.
        Chunk(png, "IDAT", data[..(data.Length / 2)]);
        Chunk(png, "IDAT", data[(data.Length / 2)..]);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        png.Write(word);
    }

    // Bit by bit, straight from the definition (reflected 0xEDB88320).
    public static uint Crc(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320 & (0u - (crc & 1)));
        }
        return ~crc;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }
}
