using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace GraphGen.Data;

/// <summary>
/// Says what is wrong with a gzip file that GZipStream refused. zlib reports every kind of corruption as
/// "unsupported compression method"; this walks the members again, decompressing each one's deflate data
/// on its own, and tells a bad CRC-32 or length in a trailer from corrupt compressed data.
/// </summary>
internal static class GzipDiagnosis
{
    private const int MaxBytes = 1 << 30;

    /// <summary>The problem in words, or null if none was found (the caller then keeps zlib's message).</summary>
    public static string? Explain(Stream file)
    {
        try
        {
            if (!file.CanSeek || file.Length > MaxBytes) return null;
            var bytes = new byte[file.Length];
            file.Position = 0;
            file.ReadExactly(bytes);
            return Explain(bytes);
        }
        catch (IOException)
        {
            return null;
        }
    }

    internal static string? Explain(byte[] bytes)
    {
        int start = 0;
        for (int member = 1; start < bytes.Length; member++)
        {
            string where = $"gzip member {member} (at byte {start})";
            int body = SkipHeader(bytes, start);
            if (body < 0)
                return member == 1 ? $"{where} has a malformed gzip header"
                    : $"trailing garbage: the {bytes.Length - start} bytes after gzip member {member - 1} (from byte {start}) are not a gzip member";
            byte[] data;
            try
            {
                using var inflate = new DeflateStream(new MemoryStream(bytes, body, bytes.Length - body), CompressionMode.Decompress);
                var output = new MemoryStream();
                inflate.CopyTo(output);
                data = output.ToArray();
            }
            catch (InvalidDataException)
            {
                return $"{where} holds corrupt deflate data";
            }
            uint crc = Crc32.Compute(data), length = (uint)data.Length;
            int trailer = Find(bytes, body, crc, length);
            if (trailer >= 0)
            {
                start = trailer + 8;
                continue;
            }
            // The trailer holds the wrong CRC or length. Where the file ends with this member, its trailer is the last 8 bytes.
            uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8));
            uint storedLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
            if (storedLength == length && storedCrc != crc)
                return $"bad CRC-32 in {where}: the data decompresses to {length} bytes with CRC-32 0x{crc:X8}, the trailer records 0x{storedCrc:X8}";
            if (storedCrc == crc)
                return $"bad length in {where}: the data decompresses to {length} bytes, the trailer records {storedLength}";
            return $"bad CRC-32 or length in {where}: no trailer records the CRC-32 0x{crc:X8} and length {length} of its data";
        }
        return null;
    }

    // The offset of the deflate data after the gzip header at start (RFC 1952), or -1 if the header is malformed.
    private static int SkipHeader(byte[] b, int start)
    {
        int p = start + 10;
        if (p > b.Length || b[start] != 0x1F || b[start + 1] != 0x8B || b[start + 2] != 8) return -1;
        int flags = b[start + 3];
        if ((flags & 4) != 0) // FEXTRA
        {
            if (p + 2 > b.Length) return -1;
            p += 2 + (b[p] | b[p + 1] << 8);
        }
        if ((flags & 8) != 0) p = SkipZeroTerminated(b, p);  // FNAME
        if ((flags & 16) != 0) p = SkipZeroTerminated(b, p); // FCOMMENT
        if ((flags & 2) != 0) p += 2;                        // FHCRC
        return p < 0 || p > b.Length ? -1 : p;
    }

    private static int SkipZeroTerminated(byte[] b, int p)
    {
        if (p < 0 || p >= b.Length) return -1;
        int zero = Array.IndexOf(b, (byte)0, p);
        return zero < 0 ? -1 : zero + 1;
    }

    // The first offset at or after from where the 8-byte trailer (crc, length), little-endian, appears; -1 if none.
    private static int Find(byte[] b, int from, uint crc, uint length)
    {
        Span<byte> trailer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer[4..], length);
        int at = b.AsSpan(from).IndexOf(trailer);
        return at < 0 ? -1 : from + at;
    }
}
