using System;
using System.Buffers.Binary;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using CsCheck;
using GraphGen.Checkpoints;
using Xunit;

namespace GraphGen.Tests.Checkpoints;

public sealed class SafetensorsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A file assembled by hand from the spec: the header, its length prefix, and the data bytes.</summary>
    internal static byte[] FileBytes(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    internal static SafetensorsFile ReadBytes(byte[] bytes, string name = "test.safetensors") =>
        Safetensors.Read(new MemoryStream(bytes), bytes.Length, name);

    internal static byte[] WriteBytes(IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var stream = new MemoryStream();
        Safetensors.WriteTo(stream, tensors, metadata);
        return stream.ToArray();
    }

    // Tensor "a", F32, shape [2], values [1, -2]; the 54-byte JSON padded with two spaces to 56 = 0x38.
    private static readonly byte[] HandMade =
    [
        0x38, 0, 0, 0, 0, 0, 0, 0,
        .. Encoding.ASCII.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  "),
        0x00, 0x00, 0x80, 0x3F, // 1.0f
        0x00, 0x00, 0x00, 0xC0, // -2.0f
    ];

    [Fact]
    public void HandMadeFile_Reads()
    {
        SafetensorsFile file = ReadBytes(HandMade);
        SafetensorsTensor a = Assert.Single(file.Tensors);
        Assert.Equal("a", a.Name);
        Assert.Equal([2], a.Shape);
        Assert.Equal([1f, -2f], a.Data);
        Assert.Empty(file.Metadata);
        Assert.Same(a, file.Find("a"));
        Assert.Null(file.Find("b"));
    }

    [Fact]
    public void Writer_MatchesHandMadeBytes()
    {
        SafetensorsTensor[] tensors = [new("a", [2], [1f, -2f])];
        Assert.Equal(HandMade, WriteBytes(tensors));
        string path = _dir.File("a.safetensors");
        Safetensors.Write(path, tensors);
        Assert.Equal(HandMade, File.ReadAllBytes(path));
    }

    [Fact]
    public void ForeignLayout_Reads()
    {
        // What other writers may do: no padding, other key order, whitespace, metadata last, data not in header order.
        string header = " { \"b\" : {\"data_offsets\":[0,4],\"shape\":[],\"dtype\":\"F32\",\"extra\":{\"x\":[1]}},\n"
            + "\"a\":{\"shape\":[1,1],\"dtype\":\"F32\",\"data_offsets\":[4,8]}, \"__metadata__\":{\"format\":\"pt\"}}";
        byte[] data = [.. BitConverter.GetBytes(3f), .. BitConverter.GetBytes(4f)];
        SafetensorsFile file = ReadBytes(FileBytes(header, data));
        Assert.Equal(["b", "a"], file.Tensors.Select(t => t.Name));
        Assert.Equal([], file.Find("b")!.Shape);
        Assert.Equal([3f], file.Find("b")!.Data);
        Assert.Equal([1, 1], file.Find("a")!.Shape);
        Assert.Equal([4f], file.Find("a")!.Data);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void SpecialValues_RoundTripBitwise()
    {
        float[] values =
        [
            0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, -1e-45f, float.PositiveInfinity, float.NegativeInfinity,
            float.MaxValue, float.MinValue, float.NaN, BitConverter.Int32BitsToSingle(0x7FC12345),
            BitConverter.Int32BitsToSingle(unchecked((int)0xFF812345)), 1f, -2.5f,
        ];
        string path = _dir.File("special.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("v", [values.Length], values)]);
        float[] back = Safetensors.Read(path).Tensors[0].Data;
        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), back.Select(BitConverter.SingleToInt32Bits));
    }

    private static readonly Gen<string> GenText =
        Gen.Char["abcXYZ019._-+ \"\\/\n\u00e9\u20ac"].Array[0, 12].Select(c => new string(c));

    private static readonly Gen<SafetensorsTensor[]> GenTensors =
        Gen.Select(Gen.Int[0, 4].Array[0, 4], Gen.Int, GenText)
            .Select((shape, seed, name) =>
            {
                var random = new Random(seed);
                var data = new float[shape.Aggregate(1, (a, b) => a * b)];
                for (int i = 0; i < data.Length; i++) data[i] = BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
                return new SafetensorsTensor(name, shape, data);
            })
            .Array[0, 6]
            // Unique names: the index keeps them apart and exercises dots and odd characters.
            .Select(ts => ts.Select((t, i) => t with { Name = $"layer{i}.{t.Name}+é\"\\" }).ToArray());

    private static readonly Gen<Dictionary<string, string>> GenMetadata =
        Gen.Select(GenText, GenText).Array[0, 4]
            .Select(pairs => pairs.DistinctBy(p => p.Item1).ToDictionary(p => p.Item1, p => p.Item2));

    [Fact]
    public void RandomTensors_RoundTrip()
    {
        Gen.Select(GenTensors, GenMetadata).Sample((tensors, metadata) =>
        {
            byte[] bytes = WriteBytes(tensors, metadata);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0UL, headerLength % 8); // so the data starts 8-byte aligned
            SafetensorsFile file = ReadBytes(bytes);
            Assert.Equal(tensors.Length, file.Tensors.Count);
            for (int i = 0; i < tensors.Length; i++)
            {
                Assert.Equal(tensors[i].Name, file.Tensors[i].Name);
                Assert.Equal(tensors[i].Shape, file.Tensors[i].Shape);
                Assert.Equal(tensors[i].Data.Select(BitConverter.SingleToInt32Bits), file.Tensors[i].Data.Select(BitConverter.SingleToInt32Bits));
            }
            Assert.Equal(metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal), file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        }, iter: 500);
    }

    [Fact]
    public void Write_ReplacesFileAndLeavesNoTemporary()
    {
        string path = _dir.File("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("x", [1], [1f])]);
        Safetensors.Write(path, [new SafetensorsTensor("y", [2], [2f, 3f])], new Dictionary<string, string> { ["k"] = "v" });
        SafetensorsFile file = Safetensors.Read(path);
        Assert.Equal("y", Assert.Single(file.Tensors).Name);
        Assert.Equal("v", file.Metadata["k"]);
        Assert.Equal(["model.safetensors"], _dir.Files());
    }

    /// <summary>Throws when the writer comes back for the data, after the header is built and the file opened.</summary>
    private sealed class CrashingList(SafetensorsTensor[] items, int failAt) : IReadOnlyList<SafetensorsTensor>
    {
        private int _reads;
        public SafetensorsTensor this[int index] => ++_reads > failAt ? throw new IOException("simulated crash") : items[index];
        public int Count => items.Length;
        public IEnumerator<SafetensorsTensor> GetEnumerator()
        {
            for (int i = 0; i < Count; i++) yield return this[i];
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void CrashMidWrite_KeepsPreviousFile()
    {
        string path = _dir.File("model.safetensors");
        Safetensors.Write(path, [new SafetensorsTensor("old", [3], [1f, 2f, 3f])]);
        byte[] before = File.ReadAllBytes(path);

        SafetensorsTensor[] tensors = [new("a", [1000], new float[1000]), new("b", [1000], new float[1000]), new("c", [4], new float[4])];
        // 3 reads build the header; the 5th is the second tensor's data, after the first tensor's bytes went out.
        var crashing = new CrashingList(tensors, failAt: 4);
        var e = Assert.Throws<IOException>(() => Safetensors.Write(path, crashing));
        Assert.Equal($"cannot write {path}: simulated crash", e.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], _dir.Files());
    }

    [Fact]
    public void FailedRename_KeepsNothingBehind()
    {
        // The target is a directory, so the final rename fails after the temporary file is complete.
        string path = _dir.File("taken");
        Directory.CreateDirectory(path);
        Assert.ThrowsAny<IOException>(() => Safetensors.Write(path, [new SafetensorsTensor("a", [1], [1f])]));
        Assert.Empty(_dir.Files());
        Assert.True(Directory.Exists(path));
    }

    [Fact]
    public void MissingDirectory_Throws()
    {
        string path = Path.Combine(_dir.Path, "no", "such", "dir", "model.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => Safetensors.Write(path, [new SafetensorsTensor("a", [1], [1f])]));
    }

    [Fact]
    public void InvalidTensors_AreRejectedBeforeAnyFileIsCreated()
    {
        string path = _dir.File("bad.safetensors");
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new("a", [2], [1f])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new("a", [-1], [])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new("a", [1], [1f]), new("a", [1], [2f])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new("__metadata__", [1], [1f])]));
        Assert.Empty(_dir.Files());
    }

    [Fact]
    public void MissingFile_ThrowsCheckpointException()
    {
        string path = _dir.File("absent.safetensors");
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.Path);

        // A directory cannot be opened as a file.
        Assert.StartsWith(_dir.Path + ": ", Assert.Throws<CheckpointException>(() => Safetensors.Read(_dir.Path)).Message);
    }

    private static string Entry(string name, string shape, string offsets, string dtype = "\"F32\"") =>
        $"\"{name}\":{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    public static TheoryData<string, int, string> Malformed => new()
    {
        { "{", 0, "not valid JSON" },
        { "", 0, "not valid JSON" },
        { "[]", 0, "header is an array, not a JSON object" },
        { "\"x\"", 0, "header is a string" },
        { "{\"a\":5}", 0, "tensor 'a': its entry is a number" },
        { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': no \"dtype\"" },
        { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': no \"shape\"" },
        { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': no \"data_offsets\"" },
        { "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" appears twice" },
        { "{" + Entry("a", "[1]", "[0,4]", "7") + "}", 4, "\"dtype\" is a number, not a string" },
        { "{" + Entry("a", "[1]", "[0,2]", "\"F16\"") + "}", 2, "tensor 'a': dtype F16 is not supported, only F32" },
        { "{" + Entry("a", "[1]", "[0,8]", "\"F64\"") + "}", 8, "dtype F64" },
        { "{" + Entry("a", "1", "[0,4]") + "}", 4, "\"shape\" is a number, not an array" },
        { "{" + Entry("a", "[-1]", "[0,0]") + "}", 0, "shape dimension -1 is not a non-negative integer" },
        { "{" + Entry("a", "[1.5]", "[0,4]") + "}", 4, "shape dimension 1.5 is not" },
        { "{" + Entry("a", "[\"1\"]", "[0,4]") + "}", 4, "shape dimension \"1\" is not" },
        { "{" + Entry("a", "[1e400]", "[0,4]") + "}", 4, "shape dimension 1e400 is not" },
        { "{" + Entry("a", "[2147483648]", "[0,4]") + "}", 4, "shape dimension 2147483648 is too large" },
        { "{" + Entry("a", "[65536,65536,65536,65536,65536]", "[0,4]") + "}", 4, "has more elements than one array can hold" },
        { "{" + Entry("a", "[1]", "[0]") + "}", 4, "\"data_offsets\" is not a [begin, end] pair" },
        { "{" + Entry("a", "[1]", "[0,4,4]") + "}", 4, "\"data_offsets\" is not a [begin, end] pair" },
        { "{" + Entry("a", "[1]", "{}") + "}", 4, "\"data_offsets\" is not a [begin, end] pair" },
        { "{" + Entry("a", "[1]", "[-4,0]") + "}", 4, "data offset -4 is not a non-negative integer" },
        { "{" + Entry("a", "[1]", "[0,4.0]") + "}", 4, "data offset 4.0 is not" },
        { "{" + Entry("a", "[1]", "[0,18446744073709551616]") + "}", 4, "data offset 18446744073709551616 is not" },
        { "{" + Entry("a", "[1]", "[4,0]") + "}", 4, "data_offsets [4, 0] end before they begin" },
        { "{" + Entry("a", "[1]", "[0,4]") + "}", 3, "data_offsets [0, 4] go past the end of the 3-byte data section" },
        { "{" + Entry("a", "[2]", "[0,4]") + "}", 4, "span 4 bytes but shape [2] needs 8" },
        { "{" + Entry("a", "[2]", "[0,8]") + "," + Entry("b", "[2]", "[4,12]") + "}", 12, "tensors 'a' and 'b' overlap" },
        { "{" + Entry("a", "[1]", "[0,4]") + "," + Entry("b", "[1]", "[8,12]") + "}", 12, "data bytes 4 to 8 belong to no tensor" },
        { "{" + Entry("a", "[1]", "[4,8]") + "}", 8, "data bytes 0 to 4 belong to no tensor" },
        { "{" + Entry("a", "[1]", "[0,4]") + "}", 8, "4 trailing bytes" },
        { "{}", 5, "5 trailing bytes" },
        { "{" + Entry("a", "[1]", "[0,4]") + "," + Entry("a", "[1]", "[4,8]") + "}", 8, "the name 'a' appears twice" },
        { "{" + Entry("a", "[1]", "[0,4]") + "," + Entry("\\u0061", "[1]", "[4,8]") + "}", 8, "the name 'a' appears twice" },
        { "{\"__metadata__\":{\"k\":1}}", 0, "\"__metadata__\" entry 'k' is a number, not a string" },
        { "{\"__metadata__\":{\"k\":null}}", 0, "\"__metadata__\" entry 'k' is null, not a string" },
        { "{\"__metadata__\":[\"k\"]}", 0, "\"__metadata__\" is an array, not an object of strings" },
        { "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "\"__metadata__\" has the key 'k' twice" },
        { "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "the name '__metadata__' appears twice" },
        { "{\"\\ud800\":{}}", 0, "invalid \\u escape" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedHeader_NamesTheProblem(string header, int dataBytes, string expected)
    {
        var e = Assert.Throws<CheckpointException>(() => ReadBytes(FileBytes(header, new byte[dataBytes]), "bad.safetensors"));
        Assert.StartsWith("bad.safetensors: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidUtf8_IsRejected()
    {
        byte[] bytes = FileBytes("{\"a\":{}}", []);
        bytes[10] = 0xFF;
        var e = Assert.Throws<CheckpointException>(() => ReadBytes(bytes));
        Assert.Contains("not valid UTF-8", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void ShortFile_IsRejected(int length)
    {
        var e = Assert.Throws<CheckpointException>(() => ReadBytes(new byte[length]));
        Assert.Contains($"the file is {length} bytes long, too short", e.Message);
    }

    [Fact]
    public void HeaderLongerThanFile_IsRejected()
    {
        byte[] bytes = HandMade[..40];
        var e = Assert.Throws<CheckpointException>(() => ReadBytes(bytes));
        Assert.Contains("the header length 56 is larger than the 32 bytes that follow it", e.Message);
    }

    [Fact]
    public void NullMetadata_MeansNone()
    {
        SafetensorsFile file = ReadBytes(FileBytes("{\"__metadata__\":null}", []));
        Assert.Empty(file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void EmptyAndScalarTensors_RoundTrip()
    {
        SafetensorsTensor[] tensors = [new("empty", [3, 0], []), new("scalar", [], [7f]), new("also_empty", [0], [])];
        SafetensorsFile file = ReadBytes(WriteBytes(tensors));
        Assert.Equal(["empty", "scalar", "also_empty"], file.Tensors.Select(t => t.Name));
        Assert.Equal([3, 0], file.Find("empty")!.Shape);
        Assert.Equal([7f], file.Find("scalar")!.Data);
    }

    /// <summary>Runs <paramref name="read"/> and checks it was quick and allocated little, whatever the header claimed.</summary>
    private static CheckpointException Cheaply(Action read)
    {
        var clock = Stopwatch.StartNew();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<CheckpointException>(read);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
        return e;
    }

    [Fact]
    public void HugeHeaderLength_ThrowsWithoutAllocating()
    {
        byte[] bytes = FileBytes("{}", []);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 8UL << 30);
        Assert.Contains("header length 8589934592 is larger", Cheaply(() => ReadBytes(bytes)).Message);

        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.Contains("header length 18446744073709551615 is larger", Cheaply(() => ReadBytes(bytes)).Message);

        // A stream claiming to be 16 GB long: the header length fits the file but not the cap.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 8UL << 30);
        var e = Cheaply(() => Safetensors.Read(new MemoryStream(bytes), 16L << 30, "big"));
        Assert.Contains("over the limit of 100000000 bytes", e.Message);
    }

    [Fact]
    public void HugeTensor_ThrowsWithoutAllocating()
    {
        // 2^31 elements, offsets consistent with a (claimed) 8 GB data section.
        string header = "{" + Entry("w", "[65536,32768]", "[0,8589934592]") + "}";
        byte[] bytes = FileBytes(header, []);
        long claimed = bytes.Length + (8L << 30);
        var e = Cheaply(() => Safetensors.Read(new MemoryStream(bytes), claimed, "big"));
        Assert.Contains("shape [65536,32768] has more elements than one array can hold", e.Message);

        // Just under the array limit, on the real (small) file: the offsets run past the data.
        bytes = FileBytes("{" + Entry("w", "[65535,32768]", "[0,8589803520]") + "}", []);
        Assert.Contains("go past the end", Cheaply(() => ReadBytes(bytes)).Message);
    }

    [Fact]
    public void StreamShorterThanClaimed_IsRejected()
    {
        byte[] bytes = FileBytes("{" + Entry("a", "[3]", "[0,12]") + "}", new byte[8]);
        var e = Assert.Throws<CheckpointException>(() => Safetensors.Read(new MemoryStream(bytes), bytes.Length + 4, "short"));
        Assert.Contains("ended early", e.Message);
    }
}
