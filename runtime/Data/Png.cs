using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace GraphGen.Data;

/// <summary>
/// A small PNG decoder (ISO/IEC 15948): 8-bit grey-scale, RGB and palette images, with or without alpha,
/// non-interlaced. Every chunk's CRC-32 and the zlib checksum are verified; anything else (16-bit or
/// sub-byte samples, interlacing, a corrupt or truncated file) is one <see cref="DataFormatException"/>.
/// Alpha is dropped, as torchvision's ImageFolder does (PIL's convert("RGB")).
/// </summary>
internal static class Png
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private const int MaxDeflateRatio = 1032; // deflate cannot expand a byte into more than about 1032

    /// <summary>The decoded pixels, interleaved: grey (1 channel) for grey-scale images, R, G, B (3 channels) for colour and palette images.</summary>
    public static (byte[] Pixels, int Width, int Height, int Channels) Decode(string path, byte[] file)
    {
        if (file.Length < Signature.Length || !file.AsSpan(0, Signature.Length).SequenceEqual(Signature))
            throw new DataFormatException(path, "not a PNG file (its first 8 bytes are not the PNG signature)");
        int width = 0, height = 0, colorType = -1;
        byte[]? palette = null;
        var compressed = new MemoryStream();
        long pos = Signature.Length;
        while (true)
        {
            if (pos + 12 > file.Length)
                throw new DataFormatException(path, $"PNG ends at byte {file.Length} without an IEND chunk (truncated file)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)pos));
            ReadOnlySpan<byte> typeBytes = file.AsSpan((int)pos + 4, 4);
            foreach (byte b in typeBytes)
            {
                if (!char.IsAsciiLetter((char)b))
                    throw new DataFormatException(path, $"corrupt PNG: the chunk at byte {pos} has no valid type");
            }
            string type = System.Text.Encoding.ASCII.GetString(typeBytes);
            if (length > file.Length - pos - 12)
                throw new DataFormatException(path, $"PNG chunk {type} at byte {pos} claims {length} bytes, the file has {Math.Max(0, file.Length - pos - 12)} left (truncated file)");
            ReadOnlySpan<byte> data = file.AsSpan((int)pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan((int)(pos + 8 + length)));
            if (Crc32.Compute(file.AsSpan((int)pos + 4, 4 + (int)length)) != crc)
                throw new DataFormatException(path, $"PNG chunk {type} at byte {pos} has a bad CRC-32 (corrupt file)");
            if (colorType < 0 && type != "IHDR")
                throw new DataFormatException(path, $"the first PNG chunk is {type}, expected IHDR (corrupt file)");
            pos += 12 + length;
            switch (type)
            {
                case "IHDR":
                    if (colorType >= 0) throw new DataFormatException(path, "PNG has two IHDR chunks (corrupt file)");
                    (width, height, colorType) = Header(path, data);
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768)
                        throw new DataFormatException(path, $"PNG palette of {length} bytes is not 1 to 256 RGB entries (corrupt file)");
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    compressed.Write(data);
                    break;
                case "IEND":
                    return (Pixels(path, compressed, width, height, colorType, palette), width, height, colorType is 0 or 4 ? 1 : 3);
                default:
                    if (char.IsAsciiLetterUpper(type[0])) // critical: the image cannot be shown without it
                        throw new DataFormatException(path, $"PNG holds the unknown critical chunk {type}; cannot decode it");
                    break; // ancillary (text, gamma, time...): safe to ignore
            }
        }
    }

    private static (int Width, int Height, int ColorType) Header(string path, ReadOnlySpan<byte> data)
    {
        if (data.Length != 13) throw new DataFormatException(path, $"PNG header (IHDR) is {data.Length} bytes, expected 13 (corrupt file)");
        int width = BinaryPrimitives.ReadInt32BigEndian(data), height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
        int depth = data[8], colorType = data[9];
        if (width <= 0 || height <= 0)
            throw new DataFormatException(path, $"PNG is {(uint)width}x{(uint)height} pixels: both sides must be 1 to 2^31-1 (corrupt file)");
        string? kind = colorType switch
        {
            0 => "grey-scale", 2 => "RGB", 3 => "palette", 4 => "grey-scale with alpha", 6 => "RGBA", _ => null,
        };
        if (kind is null)
            throw new DataFormatException(path, $"PNG color type {colorType} does not exist (corrupt file)");
        if (depth != 8)
            throw new DataFormatException(path,
                $"{kind} PNG with {depth}-bit samples is not supported: only 8 bits per sample are; save the image as 8-bit {kind}");
        if (data[10] != 0 || data[11] != 0)
            throw new DataFormatException(path, $"PNG compression method {data[10]} / filter method {data[11]} does not exist (corrupt file)");
        if (data[12] != 0)
            throw new DataFormatException(path,
                data[12] == 1 ? "interlaced (Adam7) PNG is not supported; save the image without interlacing" : $"PNG interlace method {data[12]} does not exist (corrupt file)");
        return (width, height, colorType);
    }

    private static byte[] Pixels(string path, MemoryStream compressed, int width, int height, int colorType, byte[]? palette)
    {
        if (colorType == 3 && palette is null)
            throw new DataFormatException(path, "palette PNG without a palette (PLTE chunk)");
        int bpp = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        long stride = (long)width * bpp, rawLength = height * (stride + 1);
        if (rawLength > Array.MaxLength || (long)width * height * 3 > Array.MaxLength)
            throw new DataFormatException(path, $"PNG of {width}x{height} pixels is larger than an array can hold");
        if (rawLength > compressed.Length * MaxDeflateRatio + 1024)
            throw new DataFormatException(path, $"PNG image data of {compressed.Length} bytes cannot hold {width}x{height} pixels (truncated file)");
        var raw = new byte[rawLength];
        try
        {
            compressed.Position = 0;
            using var zlib = new ZLibStream(compressed, CompressionMode.Decompress);
            int got = zlib.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            if (got < raw.Length)
                throw new DataFormatException(path, $"PNG image data decompresses to {got} bytes, {width}x{height} pixels need {raw.Length} (truncated file)");
            if (zlib.ReadByte() >= 0)
                throw new DataFormatException(path, $"PNG image data decompresses to more than the {raw.Length} bytes {width}x{height} pixels need (corrupt file)");
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt PNG image data ({e.Message})", e);
        }

        Unfilter(path, raw, height, (int)stride, bpp);
        int channels = colorType is 0 or 4 ? 1 : 3;
        var pixels = new byte[(long)width * height * channels];
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> row = raw.AsSpan((int)(y * (stride + 1) + 1), (int)stride);
            Span<byte> output = pixels.AsSpan(y * width * channels, width * channels);
            for (int x = 0; x < width; x++)
            {
                switch (colorType)
                {
                    case 0: case 4:
                        output[x] = row[x * bpp];
                        break;
                    case 2: case 6:
                        row.Slice(x * bpp, 3).CopyTo(output.Slice(3 * x, 3));
                        break;
                    default:
                        int index = row[x];
                        if (3 * index >= palette!.Length)
                            throw new DataFormatException(path, $"PNG pixel ({x}, {y}) uses palette entry {index}, the palette has {palette.Length / 3} (corrupt file)");
                        palette.AsSpan(3 * index, 3).CopyTo(output.Slice(3 * x, 3));
                        break;
                }
            }
        }
        return pixels;
    }

    // Undoes the per-row filters in place (PNG specification, section 9); each row is preceded by its filter type byte.
    private static void Unfilter(string path, byte[] raw, int height, int stride, int bpp)
    {
        for (int y = 0; y < height; y++)
        {
            int start = y * (stride + 1);
            byte filter = raw[start];
            Span<byte> row = raw.AsSpan(start + 1, stride);
            ReadOnlySpan<byte> prior = y == 0 ? default : raw.AsSpan(start - stride, stride);
            switch (filter)
            {
                case 0:
                    break;
                case 1: // Sub
                    for (int i = bpp; i < stride; i++) row[i] += row[i - bpp];
                    break;
                case 2: // Up
                    if (y > 0) for (int i = 0; i < stride; i++) row[i] += prior[i];
                    break;
                case 3: // Average
                    for (int i = 0; i < stride; i++)
                        row[i] += (byte)(((i >= bpp ? row[i - bpp] : 0) + (y > 0 ? prior[i] : 0)) >> 1);
                    break;
                case 4: // Paeth
                    for (int i = 0; i < stride; i++)
                        row[i] += Paeth(i >= bpp ? row[i - bpp] : (byte)0, y > 0 ? prior[i] : (byte)0, i >= bpp && y > 0 ? prior[i - bpp] : (byte)0);
                    break;
                default:
                    throw new DataFormatException(path, $"PNG row {y} has filter type {filter}, which does not exist (corrupt file)");
            }
        }
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
