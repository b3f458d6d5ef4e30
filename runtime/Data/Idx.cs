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
    private const int MaxRank = 16;

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

    /// <summary>Reads an IDX file of unsigned bytes of any shape (magic 0x000008NN, NN = 1..16 dimensions): the MNIST
    /// family's images (count x rows x columns), labels (count), or count x d1 x ... samples.</summary>
    /// <param name="path">The file; gzip compression (single- or multi-member) is detected from its first bytes, not its name.</param>
    /// <returns>The data, row-major, and the dimensions from the header (the first is the count).</returns>
    /// <exception cref="DataFormatException">The file is missing, not a regular file, unreadable or malformed.</exception>
    public static (byte[] Data, int[] Dimensions) Read(string path) => Read(path, (int?)null);

    /// <summary>A data set from an IDX file of samples of any shape (count x d1 x ... x dk) and a label file
    /// (count labels, each at most <paramref name="classes"/> - 1 when given). Samples of two dimensions (rows x columns)
    /// get the shape [1, rows, columns], one channel, as image networks declare it; others keep [d1, ..., dk].</summary>
    /// <exception cref="DataFormatException">A file is missing or malformed, the counts disagree, or a label is out of range.</exception>
    public static Dataset LoadDataset(string samplesPath, string labelsPath, int? classes = null)
    {
        if (classes is <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "the number of classes must be positive");
        var (data, dims) = Read(samplesPath);
        if (dims.Length < 2)
            throw new DataFormatException(samplesPath, $"holds {dims.Length} dimension ({string.Join(" x ", dims)}): a sample file needs a count and at least one sample dimension (is it a label file?)");
        byte[] raw = ReadLabels(labelsPath);
        if (raw.Length != dims[0])
            throw new DataFormatException(labelsPath,
                $"sample count and label count disagree: {samplesPath} holds {dims[0]} samples but {labelsPath} holds {raw.Length} labels");
        var labels = new int[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] >= classes)
                throw new DataFormatException(labelsPath, $"label {raw[i]} at index {i} is outside 0..{classes - 1}");
            labels[i] = raw[i];
        }
        int[] shape = dims.Length == 3 ? [1, dims[1], dims[2]] : dims[1..];
        return new Dataset(data, labels, shape);
    }

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

    private static (byte[] Data, int[] Dims) Read(string path, int? magic)
    {
        DataFile.CheckRegular(path, "an IDX file");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            try
            {
                return Read(path, file, magic);
            }
            catch (InvalidDataException e)
            {
                // zlib says only "unsupported compression method" for any corruption, a bad CRC included.
                throw new DataFormatException(path, $"corrupt gzip stream: {GzipDiagnosis.Explain(file) ?? e.Message}", e);
            }
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

    private static (byte[] Data, int[] Dims) Read(string path, FileStream file, int? magic)
    {
        long fileLength = file.Length;
        if (fileLength == 0)
            throw new DataFormatException(path, "file is empty");
        bool gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
        uint trailerCrc = 0, trailerLength = 0;
        if (gzip)
        {
            if (fileLength < MinGzipLength)
                throw new DataFormatException(path, $"corrupt gzip stream: {fileLength} bytes is shorter than the smallest gzip file ({MinGzipLength} bytes)");
            // GZipStream accepts a stream cut inside its 8-byte trailer, and ignores bytes after it, without a word.
            // The last member's trailer (CRC-32 and length of its data) catches both once the data is read.
            Span<byte> tail = stackalloc byte[8];
            file.Position = fileLength - 8;
            file.ReadExactly(tail);
            trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(tail);
            trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(tail[4..]);
        }
        file.Position = 0;
        // GZipStream decompresses every member of a multi-member file (as gzip -d and zcat do) and checks each one's CRC.
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file;
        string source = gzip ? "decompressed data" : "file";

        Span<byte> word = stackalloc byte[4];
        int got = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(path, $"{source} ends after {got} bytes, inside the 4-byte IDX magic");
        int found = BinaryPrimitives.ReadInt32BigEndian(word);
        if (magic is int expected ? found != expected : !IsByteMagic(found))
            throw new DataFormatException(path, MagicProblem(found, magic, gzip));

        var header = new byte[4 + 4 * (found & 0xFF)];
        word.CopyTo(header);
        var dims = new int[found & 0xFF];
        for (int i = 0; i < dims.Length; i++)
        {
            got = stream.ReadAtLeast(word, 4, throwOnEndOfStream: false);
            if (got < 4)
                throw new DataFormatException(path, $"{source} ends inside the IDX header (dimension {i + 1} of {dims.Length})");
            word.CopyTo(header.AsSpan(4 + 4 * i));
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(word);
        }
        string shape = string.Join(" x ", dims);
        string what = found == ImagesMagic ? "pixels" : found == LabelsMagic ? "labels" : "values";
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

        long headerLength = header.Length;
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
        if (gzip && !EndsWithTrailer(header, data, trailerCrc, trailerLength))
            throw new DataFormatException(path,
                $"gzip stream is truncated or followed by trailing garbage: its last 8 bytes (CRC-32 0x{trailerCrc:X8}, length {trailerLength}) " +
                $"are not the trailer of the last {Math.Min(trailerLength, headerLength + size)} of the {headerLength + size} bytes it decompressed to");
        return (data, dims);
    }

    // True when the last trailerLength bytes of header+data have CRC-32 trailerCrc: the file ends exactly with
    // the trailer of its last member (the whole data for a single-member file).
    private static bool EndsWithTrailer(byte[] header, byte[] data, uint trailerCrc, uint trailerLength)
    {
        if (trailerLength > (ulong)(header.Length + data.Length)) return false;
        int fromData = (int)Math.Min(trailerLength, (uint)data.Length);
        int fromHeader = (int)trailerLength - fromData;
        uint crc = Crc32.Compute(header.AsSpan(header.Length - fromHeader));
        return Crc32.Append(crc, data.AsSpan(data.Length - fromData)) == trailerCrc;
    }

    // Unsigned-byte data of 1 to MaxRank dimensions.
    private static bool IsByteMagic(int magic) =>
        (magic & unchecked((int)0xFFFFFF00)) == UnsignedByte << 8 && (magic & 0xFF) is >= 1 and <= MaxRank;

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

    private static string MagicProblem(int found, int? expectedMagic, bool gzip)
    {
        int expected = expectedMagic ?? UnsignedByte << 8;
        string head = expectedMagic is int e
            ? $"wrong IDX magic 0x{found:X8}, expected 0x{e:X8} ({(e == ImagesMagic ? "images" : "labels")})"
            : $"wrong IDX magic 0x{found:X8}, expected 0x000008NN (unsigned bytes in NN = 1..{MaxRank} dimensions)";
        if (expectedMagic is not null && found == LabelsMagic)
            return head + ": this looks like a label file";
        if (expectedMagic is not null && found == ImagesMagic)
            return head + ": this looks like an image file";
        if ((found & unchecked((int)0xFFFF0000)) != 0)
            return head + (gzip ? ": the gzip data is not an IDX file" : ": not an IDX file (nor gzip-compressed)");
        int type = (found >> 8) & 0xFF, dims = found & 0xFF;
        if (type != UnsignedByte)
            return head + $": data type 0x{type:X2} ({TypeName(type)}), expected 0x08 (unsigned byte)";
        return head + $": {dims} dimensions, expected {(expectedMagic is null ? $"1 to {MaxRank}" : expected & 0xFF)}";
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
