using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace GraphGen.Checkpoints;

/// <summary>The element types of safetensors tensors that GraphGen reads and writes.</summary>
public enum SafetensorsDtype
{
    /// <summary>float32 ("F32"): network parameters and state.</summary>
    F32,
    /// <summary>int8 ("I8"): quantized weights.</summary>
    I8,
    /// <summary>int32 ("I32"): quantized biases and integer parameters.</summary>
    I32,
}

/// <summary>One tensor of a safetensors file: float32 unless made by <see cref="FromInt8"/> or <see cref="FromInt32"/>.</summary>
/// <param name="Name">Its key in the header, e.g. "conv1.weight".</param>
/// <param name="Shape">Its dimensions, outermost first (PyTorch layout: conv O×I×kH×kW, dense out×in).</param>
/// <param name="Data">Its float32 values in row-major order: as many as the product of <paramref name="Shape"/>
/// (empty for an integer tensor).</param>
public sealed record SafetensorsTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>The element type.</summary>
    public SafetensorsDtype Dtype { get; private init; } = SafetensorsDtype.F32;

    /// <summary>The values of an <see cref="SafetensorsDtype.I8"/> tensor, else null.</summary>
    public sbyte[]? Int8Data { get; private init; }

    /// <summary>The values of an <see cref="SafetensorsDtype.I32"/> tensor, else null.</summary>
    public int[]? Int32Data { get; private init; }

    /// <summary>An int8 tensor.</summary>
    public static SafetensorsTensor FromInt8(string name, int[] shape, sbyte[] data) =>
        new(name, shape, []) { Dtype = SafetensorsDtype.I8, Int8Data = data ?? throw new ArgumentNullException(nameof(data)) };

    /// <summary>An int32 tensor.</summary>
    public static SafetensorsTensor FromInt32(string name, int[] shape, int[] data) =>
        new(name, shape, []) { Dtype = SafetensorsDtype.I32, Int32Data = data ?? throw new ArgumentNullException(nameof(data)) };

    internal long Count => Dtype switch { SafetensorsDtype.I8 => Int8Data!.Length, SafetensorsDtype.I32 => Int32Data!.Length, _ => Data.Length };

    internal static int Size(SafetensorsDtype dtype) => dtype == SafetensorsDtype.I8 ? 1 : 4;
}

/// <summary>The contents of a safetensors file.</summary>
public sealed class SafetensorsFile
{
    private readonly Dictionary<string, SafetensorsTensor> _byName = new(StringComparer.Ordinal);

    internal SafetensorsFile(List<SafetensorsTensor> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        foreach (SafetensorsTensor t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<SafetensorsTensor> Tensors { get; }

    /// <summary>The "__metadata__" entries; empty if the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensor named <paramref name="name"/>, or null if the file has none.</summary>
    public SafetensorsTensor? Find(string name) => _byName.GetValueOrDefault(name);
}

/// <summary>
/// Reads and writes the safetensors format (https://github.com/huggingface/safetensors), float32 tensors (and, for
/// quantized networks, int8 and int32 ones when asked for):
/// an 8-byte little-endian header length N, N bytes of JSON header padded with spaces so that the data starts
/// 8-byte aligned, then the tensors' little-endian bytes packed contiguously. Files written here load in Python's
/// <c>safetensors.torch.load_file</c>; reading checks everything the reference reader checks and reports any
/// problem as one <see cref="CheckpointException"/>.
/// </summary>
public static class Safetensors
{
    /// <summary>The largest header accepted, in bytes: the reference implementation's limit.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    // MemoryMarshal.AsBytes cannot make a span of more than int.MaxValue bytes, so big tensors go in pieces.
    private const int Chunk = 1 << 28;

    /// <summary>
    /// Writes a file atomically with <see cref="AtomicFile.Write"/>: the data goes to a temporary file beside
    /// <paramref name="path"/>, is flushed to disk, then renamed over it (through a symbolic link, over the link's
    /// target). On any failure the temporary file is deleted and a previous file at <paramref name="path"/> is left as
    /// it was.
    /// </summary>
    /// <param name="path">The file to create or replace; if it exists it must be a regular file or a link to one.</param>
    /// <param name="tensors">The tensors, in the order their data is written; names must be unique.</param>
    /// <param name="metadata">Optional "__metadata__" entries, written in ordinal key order.</param>
    /// <exception cref="ArgumentException">A tensor's data does not match its shape, or a name is repeated or reserved.</exception>
    /// <exception cref="IOException">The file could not be written (the previous one is intact); the message names
    /// <paramref name="path"/> and why.</exception>
    public static void Write(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (header, counts) = Header(tensors, metadata);
        AtomicFile.Write(path, stream => WriteBody(stream, header, counts, tensors));
    }

    /// <summary>As <see cref="Write(string, IReadOnlyList{SafetensorsTensor}, IReadOnlyDictionary{string, string}?)"/>,
    /// but with <see cref="AtomicFile.Probe"/>: proves the write would succeed now and leaves <paramref name="path"/> alone.</summary>
    internal static void Probe(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (header, counts) = Header(tensors, metadata);
        AtomicFile.Probe(path, stream => WriteBody(stream, header, counts, tensors));
    }

    /// <summary>Writes the same bytes as <see cref="Write(string, IReadOnlyList{SafetensorsTensor}, IReadOnlyDictionary{string, string}?)"/> to a stream.</summary>
    internal static void WriteTo(Stream stream, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var (header, counts) = Header(tensors, metadata);
        WriteBody(stream, header, counts, tensors);
    }

    /// <summary>Reads and validates a whole file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="CheckpointException">The file is missing, unreadable or malformed; the message names the first problem.</exception>
    public static SafetensorsFile Read(string path) => Read(path, allowIntegers: false);

    /// <summary>Reads and validates a whole file; with <paramref name="allowIntegers"/>, I8 and I32 tensors too.</summary>
    /// <param name="path">The file.</param>
    /// <param name="allowIntegers">Accept int8 and int32 tensors (a quantized network); otherwise only F32.</param>
    /// <exception cref="CheckpointException">The file is missing, unreadable or malformed; the message names the first problem.</exception>
    public static SafetensorsFile Read(string path, bool allowIntegers)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            // Opening a FIFO would block until a writer appears, and a device has no length.
            if (AtomicFile.Kind(path, followLinks: true) is { } kind)
                throw new CheckpointException(path, $"it is {kind}, not a regular file");
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return Read(file, file.Length, path, allowIntegers);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            // Read(Stream, ...) wraps its own failures: what reaches here is opening the file or asking its length.
            throw new CheckpointException(path, $"cannot open the file: {e.Message}", e);
        }
    }

    /// <summary>Reads and validates a file held in a stream positioned at its first byte.</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="length">The file's length in bytes: the data section is what follows the header up to it.</param>
    /// <param name="displayName">What error messages call the file.</param>
    /// <exception cref="CheckpointException">The bytes are not a valid float32 safetensors file, or could not be read.</exception>
    public static SafetensorsFile Read(Stream stream, long length, string displayName) => Read(stream, length, displayName, allowIntegers: false);

    /// <summary>As <see cref="Read(Stream, long, string)"/>; with <paramref name="allowIntegers"/>, I8 and I32 tensors too.</summary>
    /// <param name="stream">The file's bytes.</param>
    /// <param name="length">The file's length in bytes.</param>
    /// <param name="displayName">What error messages call the file.</param>
    /// <param name="allowIntegers">Accept int8 and int32 tensors; otherwise only F32.</param>
    /// <exception cref="CheckpointException">The bytes are not a valid safetensors file of those types, or could not be read.</exception>
    public static SafetensorsFile Read(Stream stream, long length, string displayName, bool allowIntegers)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        try
        {
            return ReadCore(stream, length, displayName, allowIntegers);
        }
        catch (CheckpointException)
        {
            throw;
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException(displayName, "the file ended early", e);
        }
        catch (Exception e)
        {
            // Validation names every malformation it knows of; this is an I/O failure (or a reader bug),
            // still reported as a problem with this file so that callers handle one exception type.
            throw new CheckpointException(displayName, $"cannot read the file: {e.Message}", e);
        }
    }

    private readonly record struct Entry(string Name, int[] Shape, long Begin, long End, int Index, SafetensorsDtype Dtype);

    private static SafetensorsFile ReadCore(Stream stream, long length, string file, bool allowIntegers)
    {
        if (length < 8)
            throw new CheckpointException(file, $"the file is {length} bytes long, too short for the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        // Both checks come before the header buffer is allocated: the field is whatever the file says.
        if (headerLength > (ulong)(length - 8))
            throw new CheckpointException(file, $"the header length {headerLength} is larger than the {length - 8} bytes that follow it");
        if (headerLength > MaxHeaderLength)
            throw new CheckpointException(file, $"the header length {headerLength} is over the limit of {MaxHeaderLength} bytes");
        var header = new byte[(int)headerLength];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;

        var (entries, metadata) = ParseHeader(file, header, dataLength, allowIntegers);

        // The header proved the entries tile the data section in this order, so one sequential pass reads them.
        var tensors = new List<SafetensorsTensor>(entries.Count);
        foreach (Entry e in entries)
        {
            if (e.Dtype == SafetensorsDtype.I8)
            {
                var bytes = new sbyte[e.End - e.Begin];
                stream.ReadExactly(MemoryMarshal.AsBytes(bytes.AsSpan()));
                tensors.Add(SafetensorsTensor.FromInt8(e.Name, e.Shape, bytes));
                continue;
            }
            if (e.Dtype == SafetensorsDtype.I32)
            {
                var ints = new int[(e.End - e.Begin) / 4];
                stream.ReadExactly(MemoryMarshal.AsBytes(ints.AsSpan()));
                if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(ints, ints);
                tensors.Add(SafetensorsTensor.FromInt32(e.Name, e.Shape, ints));
                continue;
            }
            var data = new float[(e.End - e.Begin) / 4];
            for (Span<float> rest = data, part; !rest.IsEmpty; rest = rest[part.Length..])
            {
                part = rest[..Math.Min(Chunk, rest.Length)];
                stream.ReadExactly(MemoryMarshal.AsBytes(part));
                if (!BitConverter.IsLittleEndian)
                {
                    Span<int> bits = MemoryMarshal.Cast<float, int>(part);
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }
            }
            tensors.Add(new SafetensorsTensor(e.Name, e.Shape, data));
        }
        return new SafetensorsFile(tensors, metadata);
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string file, byte[] header, long dataLength, bool allowIntegers)
    {
        if (!Utf8.IsValid(header))
            throw new CheckpointException(file, "the header is not valid UTF-8");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(file, $"the header is not valid JSON: {e.Message}", e);
        }

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(file, $"the header is {Kind(root)}, not a JSON object");
            // JsonDocument keeps repeated keys; the format forbids them.
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = Name(file, property);
                if (!names.Add(name))
                    throw new CheckpointException(file, $"the name '{Clip(name)}' appears twice in the header");
                if (name == MetadataKey)
                    ParseMetadata(file, property.Value, metadata);
                else
                    entries.Add(ParseEntry(file, name, property.Value, dataLength, entries.Count, allowIntegers));
            }
        }

        entries.Sort((a, b) =>
            a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) :
            a.End != b.End ? a.End.CompareTo(b.End) :
            a.Index.CompareTo(b.Index));
        // The format requires the tensors to pack the data section exactly: no overlap, no gap, nothing after.
        long covered = 0;
        string? previous = null;
        foreach (Entry e in entries)
        {
            if (e.Begin < covered)
                throw new CheckpointException(file, $"the data of tensors '{Clip(previous!)}' and '{Clip(e.Name)}' overlap");
            if (e.Begin > covered)
                throw new CheckpointException(file, $"data bytes {covered} to {e.Begin} belong to no tensor");
            covered = e.End;
            previous = e.Name;
        }
        if (covered != dataLength)
            throw new CheckpointException(file, $"{dataLength - covered} trailing bytes after the last tensor's data");
        return (entries, metadata);
    }

    private static void ParseMetadata(string file, JsonElement value, Dictionary<string, string> metadata)
    {
        // The reference reader takes null for "no metadata".
        if (value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckpointException(file, $"\"{MetadataKey}\" is {Kind(value)}, not an object of strings");
        foreach (JsonProperty property in value.EnumerateObject())
        {
            string key = Name(file, property);
            if (property.Value.ValueKind != JsonValueKind.String)
                throw new CheckpointException(file, $"\"{MetadataKey}\" entry '{Clip(key)}' is {Kind(property.Value)}, not a string");
            if (!metadata.TryAdd(key, Text(file, property.Value)))
                throw new CheckpointException(file, $"\"{MetadataKey}\" has the key '{Clip(key)}' twice");
        }
    }

    private static Entry ParseEntry(string file, string name, JsonElement value, long dataLength, int index, bool allowIntegers)
    {
        CheckpointException Fail(string problem) => new(file, $"tensor '{Clip(name)}': {problem}");

        if (value.ValueKind != JsonValueKind.Object)
            throw Fail($"its entry is {Kind(value)}, not an object");
        JsonElement? dtype = null, shape = null, offsets = null;
        foreach (JsonProperty field in value.EnumerateObject())
        {
            // Other fields are ignored, as the reference reader does.
            string key = Name(file, field);
            switch (key)
            {
                case "dtype": Set(ref dtype, key, field.Value); break;
                case "shape": Set(ref shape, key, field.Value); break;
                case "data_offsets": Set(ref offsets, key, field.Value); break;
            }
        }
        void Set(ref JsonElement? slot, string key, JsonElement field)
        {
            if (slot.HasValue) throw Fail($"\"{key}\" appears twice");
            slot = field;
        }

        if (dtype is not { } d) throw Fail("no \"dtype\"");
        if (shape is not { } s) throw Fail("no \"shape\"");
        if (offsets is not { } o) throw Fail("no \"data_offsets\"");

        if (d.ValueKind != JsonValueKind.String) throw Fail($"\"dtype\" is {Kind(d)}, not a string");
        string type = Text(file, d);
        SafetensorsDtype elementType = type switch
        {
            "F32" => SafetensorsDtype.F32,
            "I8" when allowIntegers => SafetensorsDtype.I8,
            "I32" when allowIntegers => SafetensorsDtype.I32,
            _ => throw Fail($"dtype {Clip(type)} is not supported, only {(allowIntegers ? "F32, I8 and I32" : "F32")}"),
        };
        int size = SafetensorsTensor.Size(elementType);

        if (s.ValueKind != JsonValueKind.Array) throw Fail($"\"shape\" is {Kind(s)}, not an array");
        var dims = new int[s.GetArrayLength()];
        int rank = 0;
        foreach (JsonElement x in s.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt64(out long dim) || dim < 0)
                throw Fail($"shape dimension {Clip(x.GetRawText())} is not a non-negative integer");
            if (dim > int.MaxValue) throw Fail($"shape dimension {dim} is too large");
            dims[rank++] = (int)dim;
        }
        long count = ElementCount(dims)
            ?? throw Fail($"shape {Format(dims)} has more elements than one array can hold");

        if (o.ValueKind != JsonValueKind.Array || o.GetArrayLength() != 2)
            throw Fail("\"data_offsets\" is not a [begin, end] pair");
        long begin = Offset(o[0]), end = Offset(o[1]);
        long Offset(JsonElement x) =>
            x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long v) && v >= 0 ? v
            : throw Fail($"data offset {Clip(x.GetRawText())} is not a non-negative integer");
        if (begin > end) throw Fail($"data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength) throw Fail($"data_offsets [{begin}, {end}] go past the end of the {dataLength}-byte data section");
        if (end - begin != size * count)
            throw Fail($"data_offsets [{begin}, {end}] span {end - begin} bytes but shape {Format(dims)} needs {size * count}");
        return new Entry(name, dims, begin, end, index, elementType);
    }

    /// <summary>The product of the dimensions, or null when it exceeds what one array can hold.</summary>
    internal static long? ElementCount(int[] shape)
    {
        if (Array.IndexOf(shape, 0) >= 0) return 0;
        long count = 1;
        foreach (int d in shape)
        {
            count *= d; // both factors are below 2^31: no overflow
            if (count > Array.MaxLength) return null;
        }
        return count;
    }

    internal static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";

    private static (byte[] Header, long[] Counts) Header(IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var counts = new long[tensors.Count];
        var buffer = new ArrayBufferWriter<byte>();
        // The relaxed encoder keeps names readable (no \u002B for '+'); the output is valid JSON either way.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                // Sorted so that the same checkpoint always gives the same bytes.
                var keys = new List<string>(metadata.Keys);
                keys.Sort(StringComparer.Ordinal);
                foreach (string key in keys)
                    json.WriteString(key, metadata[key] ?? throw new ArgumentException($"metadata '{key}' is null.", nameof(metadata)));
                json.WriteEndObject();
            }
            var names = new HashSet<string>(StringComparer.Ordinal) { MetadataKey };
            long offset = 0;
            for (int i = 0; i < tensors.Count; i++)
            {
                SafetensorsTensor t = tensors[i] ?? throw new ArgumentException($"tensor {i} is null.", nameof(tensors));
                if (t.Name is null || t.Shape is null || t.Data is null)
                    throw new ArgumentException($"tensor {i} has a null name, shape or data.", nameof(tensors));
                long count = t.Count;
                if (!names.Add(t.Name))
                    throw new ArgumentException(t.Name == MetadataKey ? $"'{MetadataKey}' is reserved." : $"tensor name '{t.Name}' is repeated.", nameof(tensors));
                if (Array.Exists(t.Shape, d => d < 0))
                    throw new ArgumentException($"tensor '{t.Name}' has a negative dimension: {Format(t.Shape)}.", nameof(tensors));
                if (ElementCount(t.Shape) != count)
                    throw new ArgumentException($"tensor '{t.Name}' has shape {Format(t.Shape)} but {count} values.", nameof(tensors));
                counts[i] = count;

                json.WritePropertyName(t.Name);
                json.WriteStartObject();
                json.WriteString("dtype", t.Dtype.ToString());
                json.WriteStartArray("shape");
                foreach (int d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += SafetensorsTensor.Size(t.Dtype) * count;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int length = (buffer.WrittenCount + 7) & ~7;
        var header = new byte[length];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return (header, counts);
    }

    private static void WriteBody(Stream stream, byte[] header, long[] counts, IReadOnlyList<SafetensorsTensor> tensors)
    {
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        for (int i = 0; i < tensors.Count; i++)
        {
            // The header already promised these lengths; a list that changed since would corrupt the packing.
            if (tensors[i].Count != counts[i])
                throw new InvalidOperationException($"tensor '{tensors[i].Name}' changed length while being written.");
            if (tensors[i].Int8Data is { } int8)
            {
                stream.Write(MemoryMarshal.AsBytes(int8.AsSpan()));
                continue;
            }
            float[] data = tensors[i].Int32Data is { } int32 ? MemoryMarshal.Cast<int, float>(int32.AsSpan()).ToArray() : tensors[i].Data;
            for (ReadOnlySpan<float> rest = data, part; !rest.IsEmpty; rest = rest[part.Length..])
            {
                part = rest[..Math.Min(Chunk, rest.Length)];
                if (BitConverter.IsLittleEndian)
                {
                    stream.Write(MemoryMarshal.AsBytes(part));
                }
                else
                {
                    var bits = new int[part.Length];
                    BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<float, int>(part), bits);
                    stream.Write(MemoryMarshal.AsBytes(bits.AsSpan()));
                }
            }
        }
    }

    private static string Name(string file, JsonProperty property)
    {
        try { return property.Name; }
        catch (InvalidOperationException e) { throw new CheckpointException(file, "the header has a name with an invalid \\u escape", e); }
    }

    private static string Text(string file, JsonElement value)
    {
        try { return value.GetString()!; }
        catch (InvalidOperationException e) { throw new CheckpointException(file, "the header has a string with an invalid \\u escape", e); }
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    // Keeps a hostile header from putting megabytes into an error message.
    private static string Clip(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
