using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;

namespace GraphGen.Data;

/// <summary>
/// Reads and writes IDX files (the MNIST format), plain or gzip-compressed. Every problem with a file,
/// from a missing file to a lying header, is reported as one <see cref="DataFormatException"/>.
/// </summary>
public static class Idx
{
    private const int ImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
    private const int LabelsMagic = 0x00000801; // unsigned bytes, 1 dimension
    private const byte UnsignedByte = 0x08;
    private const int MinGzipLength = 18; // 10-byte header, empty deflate block, 8-byte trailer

    /// <summary>Reads an image file (magic 0x00000803: count x rows x columns unsigned bytes).</summary>
    /// <param name="path">The file; gzip compression is detected from its first bytes, not its name.</param>
    /// <exception cref="DataFormatException">The file is missing, unreadable or malformed.</exception>
    public static (byte[] Pixels, int Count, int Rows, int Columns) ReadImages(string path)
    {
        var (data, dims) = Read(path, ImagesMagic);
        return (data, dims[0], dims[1], dims[2]);
    }

    /// <summary>Reads a label file (magic 0x00000801: count unsigned bytes).</summary>
    /// <param name="path">The file; gzip compression is detected from its first bytes, not its name.</param>
    /// <exception cref="DataFormatException">The file is missing, unreadable or malformed.</exception>
    public static byte[] ReadLabels(string path) => Read(path, LabelsMagic).Data;

    /// <summary>Writes an image file of <paramref name="count"/> images of <paramref name="rows"/> x <paramref name="columns"/> bytes.</summary>
    public static void WriteImages(string path, ReadOnlySpan<byte> pixels, int count, int rows, int columns, bool gzip = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (pixels.Length != (long)count * rows * columns)
            throw new ArgumentException($"{count} images of {rows}x{columns} need {(long)count * rows * columns} bytes, got {pixels.Length}.", nameof(pixels));
        Write(path, ImagesMagic, [count, rows, columns], pixels, gzip);
    }

    /// <summary>Writes a label file holding one byte per label.</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels, bool gzip = true) =>
        Write(path, LabelsMagic, [labels.Length], labels, gzip);

    private static void Write(string path, int magic, int[] dims, ReadOnlySpan<byte> data, bool gzip)
    {
        var header = new byte[4 + 4 * dims.Length];
        BinaryPrimitives.WriteInt32BigEndian(header, magic);
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), dims[i]);
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Optimal) : file;
        stream.Write(header);
        stream.Write(data);
    }

    private static (byte[] Data, int[] Dims) Read(string path, int magic)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
            throw new DataFormatException(path, "is a directory, expected an IDX file");
        if (!File.Exists(path))
            throw new DataFormatException(path, "file not found");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            return Read(path, file, magic);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt gzip stream ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException(path, $"truncated gzip stream ({e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new DataFormatException(path, $"cannot read the file ({e.Message})", e);
        }
    }

    private static (byte[] Data, int[] Dims) Read(string path, FileStream file, int magic)
    {
        long fileLength = file.Length;
        if (fileLength == 0)
            throw new DataFormatException(path, "file is empty");
        bool gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
        uint trailerLength = 0;
        if (gzip)
        {
            if (fileLength < MinGzipLength)
                throw new DataFormatException(path, $"corrupt gzip stream: {fileLength} bytes is shorter than the smallest gzip file ({MinGzipLength} bytes)");
            // GZipStream accepts a stream cut inside its 8-byte trailer, and ignores bytes after it, without a word.
            // The trailer's last field, the uncompressed length mod 2^32, catches both once the data is read.
            Span<byte> tail = stackalloc byte[4];
            file.Position = fileLength - 4;
            file.ReadExactly(tail);
            trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail);
        }
        file.Position = 0;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        string source = gzip ? "decompressed data" : "file";

        Span<byte> word = stackalloc byte[4];
        int got = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(path, $"{source} ends after {got} bytes, inside the 4-byte IDX magic");
        int found = BinaryPrimitives.ReadInt32BigEndian(word);
        if (found != magic)
            throw new DataFormatException(path, MagicProblem(found, magic, gzip));

        var dims = new int[magic & 0xFF];
        for (int i = 0; i < dims.Length; i++)
        {
            got = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
            if (got < 4)
                throw new DataFormatException(path, $"{source} ends inside the IDX header (dimension {i + 1} of {dims.Length})");
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
        }
        string shape = string.Join(" x ", dims);
        string what = magic == ImagesMagic ? "pixels" : "labels";
        // Count may be zero (an empty set is well-formed); image sides may not.
        if (dims[0] < 0 || Array.FindIndex(dims, 1, d => d <= 0) >= 0)
            throw new DataFormatException(path, $"absurd dimensions {shape} in the header: the count must not be negative, rows and columns must be positive");

        // Each factor is below 2^31 and the running product is checked before each step, so the long never overflows.
        long size = 1;
        foreach (int d in dims)
        {
            size *= d;
            if (size > Array.MaxLength)
                throw new DataFormatException(path, $"absurd dimensions {shape} in the header: more than the {Array.MaxLength} bytes a single array can hold");
        }

        long headerLength = 4 + 4L * dims.Length;
        if (!gzip)
        {
            // A plain file's length is known, so a lying header is caught before anything is allocated.
            long held = fileLength - headerLength;
            if (held < size)
                throw new DataFormatException(path, $"file holds {held} bytes of {what} but the header promises {size} ({shape})");
            if (held > size)
                throw new DataFormatException(path, $"trailing garbage: file holds {held} bytes of {what} but the header promises {size} ({shape})");
        }

        byte[] data = gzip ? ReadGrowing(path, stream, size, fileLength, what, shape) : new byte[size];
        if (!gzip)
        {
            got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
            if (got < data.Length) // the file shrank while we read it
                throw new DataFormatException(path, $"file holds {got} bytes of {what} but the header promises {size} ({shape})");
        }
        // Reading past the end also makes GZipStream check the CRC and any further gzip member.
        if (stream.Read(word) > 0)
            throw new DataFormatException(path, $"trailing garbage: {source} continues past the {size} bytes of {what} the header promises ({shape})");
        if (gzip && trailerLength != (uint)(headerLength + size))
            throw new DataFormatException(path,
                $"gzip stream is truncated or followed by trailing garbage: its last 4 bytes give the uncompressed length as {trailerLength}, " +
                $"but it decompressed to {headerLength + size} bytes");
        return (data, dims);
    }

    // The decompressed length is unknown until the stream ends, so the buffer grows with the data actually
    // present instead of being sized from the header: a 100-byte file claiming 2 GB costs at most the first guess.
    private static byte[] ReadGrowing(string path, Stream stream, long size, long fileLength, string what, string shape)
    {
        // IDX data compresses less than 8:1 in practice, so the guess is usually right the first time.
        long guess = Math.Max(1 << 20, fileLength * 8);
        var data = new byte[Math.Min(size, guess)];
        int filled = 0;
        while (filled < size)
        {
            if (filled == data.Length)
                Array.Resize(ref data, (int)Math.Min(size, 2L * data.Length));
            int got = stream.Read(data, filled, data.Length - filled);
            if (got == 0)
                throw new DataFormatException(path, $"decompressed data holds {filled} bytes of {what} but the header promises {size} ({shape}): truncated file or wrong header");
            filled += got;
        }
        return data;
    }

    private static string MagicProblem(int found, int expected, bool gzip)
    {
        string head = $"wrong IDX magic 0x{found:X8}, expected 0x{expected:X8} ({(expected == ImagesMagic ? "images" : "labels")})";
        if (found == LabelsMagic)
            return head + ": this looks like a label file";
        if (found == ImagesMagic)
            return head + ": this looks like an image file";
        if ((found & unchecked((int)0xFFFF0000)) != 0)
            return head + (gzip ? ": the gzip data is not an IDX file" : ": not an IDX file (nor gzip-compressed)");
        int type = (found >> 8) & 0xFF, dims = found & 0xFF;
        if (type != UnsignedByte)
            return head + $": data type 0x{type:X2} ({TypeName(type)}), expected 0x08 (unsigned byte)";
        return head + $": {dims} dimensions, expected {expected & 0xFF}";
    }

    private static string TypeName(int type) => type switch
    {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0B => "int16",
        0x0C => "int32",
        0x0D => "float32",
        0x0E => "float64",
        _ => "unknown type",
    };
}
