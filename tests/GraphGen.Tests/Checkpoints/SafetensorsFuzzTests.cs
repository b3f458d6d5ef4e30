using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using CsCheck;
using GraphGen.Checkpoints;
using Xunit;
using Xunit.Sdk;

namespace GraphGen.Tests.Checkpoints;

/// <summary>
/// Whatever the bytes, reading either succeeds or throws <see cref="CheckpointException"/>: never an
/// IndexOutOfRange, overflow, JSON or out-of-memory exception. Each test runs a few thousand cases.
/// </summary>
public sealed class SafetensorsFuzzTests
{
    private const int Iterations = 4000;

    private static readonly byte[] Valid = SafetensorsTests.WriteBytes(
        [
            new SafetensorsTensor("conv1.weight", [2, 1, 2, 2], [1, -2, 3, -4, 0.5f, -0f, float.Epsilon, float.PositiveInfinity]),
            new SafetensorsTensor("conv1.bias", [2], [0.25f, -0.125f]),
            new SafetensorsTensor("batchnorm1.moving_var", [2], [1, 1]),
            new SafetensorsTensor("empty", [0, 3], []),
            new SafetensorsTensor("scalar", [], [42]),
        ],
        new Dictionary<string, string> { ["graphgen.network"] = "Tiny", ["graphgen.epoch"] = "3" });

    private static readonly int HeaderEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(Valid);

    private sealed class Outcomes
    {
        public int Loaded, Rejected;
    }

    /// <summary>The property: load or <see cref="CheckpointException"/>; on success the tensors account for every data byte.</summary>
    private static void LoadsOrRejects(byte[] bytes, Outcomes outcomes)
    {
        SafetensorsFile file;
        try
        {
            file = Safetensors.Read(new MemoryStream(bytes), bytes.Length, "fuzz.safetensors");
        }
        catch (CheckpointException e)
        {
            Assert.StartsWith("fuzz.safetensors: ", e.Message);
            // A wrapped exception other than the JSON parser's means the reader hit a case it does not check for.
            if (e.InnerException is not (null or JsonException))
                throw new XunitException($"unchecked failure: {e.InnerException}");
            Interlocked.Increment(ref outcomes.Rejected);
            return;
        }
        long header = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(bytes.Length - 8 - header, file.Tensors.Sum(t => 4L * t.Data.Length));
        foreach (SafetensorsTensor t in file.Tensors)
            Assert.Equal(t.Shape.Aggregate(1L, (a, b) => a * b), t.Data.Length);
        Interlocked.Increment(ref outcomes.Loaded);
    }

    [Fact]
    public void Valid_Loads()
    {
        var outcomes = new Outcomes();
        LoadsOrRejects(Valid, outcomes);
        Assert.Equal(1, outcomes.Loaded);
    }

    [Fact]
    public void RandomBytes()
    {
        var outcomes = new Outcomes();
        Gen.Byte.Array[0, 300].Sample(bytes => LoadsOrRejects(bytes, outcomes), iter: Iterations);
        // The same, with a length prefix that fits the file so that the header parser is reached.
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 300])
            .Select((rest, n) =>
            {
                var bytes = new byte[8 + rest.Length];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)Math.Min(n, rest.Length));
                rest.CopyTo(bytes, 8);
                return bytes;
            })
            .Sample(bytes => LoadsOrRejects(bytes, outcomes), iter: Iterations);
        Assert.Equal(2 * Iterations, outcomes.Loaded + outcomes.Rejected);
    }

    public enum Op { Flip, SetChar, Truncate, Append, HeaderLength, Splice, Delete, Digit }

    /// <summary>One edit of a file. A record so that a failing case prints readably.</summary>
    public sealed record Mutation(Op Op, int A, int B, ulong C);

    private const string JsonChars = "{}[]\":,.-+eE0123456789 \\nu";

    private static readonly Gen<int> AnyPosition = Gen.Int[0, Valid.Length - 1];
    // Most interesting damage is in the header; data bytes only change values.
    private static readonly Gen<int> Position = Gen.Frequency((3, Gen.Int[0, HeaderEnd - 1]), (1, AnyPosition));

    private static readonly Gen<Mutation> GenMutation = Gen.OneOf(
        Gen.Select(Position, Gen.Int[1, 255], (p, x) => new Mutation(Op.Flip, p, x, 0)),
        Gen.Select(Position, Gen.Int[0, JsonChars.Length - 1], (p, c) => new Mutation(Op.SetChar, p, c, 0)),
        Gen.Int[0, Valid.Length].Select(n => new Mutation(Op.Truncate, n, 0, 0)),
        Gen.Select(Gen.Int[1, 16], Gen.Int[0, 255], (n, x) => new Mutation(Op.Append, n, x, 0)),
        Gen.OneOf(
                Gen.ULong,
                Gen.Int[0, Valid.Length + 16].Select(n => (ulong)n),
                Gen.Int[-9, 9].Select(d => (ulong)(HeaderEnd - 8 + d)),
                Gen.Int[0, 63].Select(b => 1UL << b))
            .Select(n => new Mutation(Op.HeaderLength, 0, 0, n)),
        Gen.Select(AnyPosition, Gen.Int[1, 64], AnyPosition, (a, n, to) => new Mutation(Op.Splice, a, n, (ulong)to)),
        Gen.Select(Position, Gen.Int[1, 16], (a, n) => new Mutation(Op.Delete, a, n, 0)),
        Gen.Select(Gen.Int[0, 200], Gen.Int[0, 9], (k, d) => new Mutation(Op.Digit, k, d, 0)));

    private static byte[] Apply(byte[] bytes, Mutation m)
    {
        var list = new List<byte>(bytes);
        switch (m.Op)
        {
            case Op.Flip:
                if (m.A < list.Count) list[m.A] ^= (byte)m.B;
                break;
            case Op.SetChar:
                if (m.A < list.Count) list[m.A] = (byte)JsonChars[m.B];
                break;
            case Op.Truncate:
                if (m.A < list.Count) list.RemoveRange(m.A, list.Count - m.A);
                break;
            case Op.Append:
                list.AddRange(Enumerable.Repeat((byte)m.B, m.A));
                break;
            case Op.HeaderLength:
                if (list.Count >= 8)
                {
                    var field = new byte[8];
                    BinaryPrimitives.WriteUInt64LittleEndian(field, m.C);
                    for (int i = 0; i < 8; i++) list[i] = field[i];
                }
                break;
            case Op.Splice:
                // Inserts a piece of the valid file somewhere: duplicated entries, shifted data, doubled headers.
                int n = Math.Min(m.B, Valid.Length - m.A);
                list.InsertRange((int)Math.Min(m.C, (ulong)list.Count), Valid.Skip(m.A).Take(n));
                break;
            case Op.Delete:
                if (m.A < list.Count) list.RemoveRange(m.A, Math.Min(m.B, list.Count - m.A));
                break;
            case Op.Digit:
                // Rewrites the k-th digit of the header: shapes and offsets that still parse but no longer agree.
                int end = Math.Min(list.Count, HeaderEnd), seen = 0;
                for (int i = 8; i < end; i++)
                {
                    if (list[i] is >= (byte)'0' and <= (byte)'9' && seen++ == m.A % 40)
                    {
                        list[i] = (byte)('0' + m.B);
                        break;
                    }
                }
                break;
        }
        return list.ToArray();
    }

    [Fact]
    public void MutatedValidFile()
    {
        var outcomes = new Outcomes();
        GenMutation.Array[1, 4].Sample(
            mutations => LoadsOrRejects(mutations.Aggregate(Valid, Apply), outcomes),
            iter: 2 * Iterations,
            print: mutations => string.Join("; ", mutations.Select(m => m.ToString())));
        Assert.Equal(2 * Iterations, outcomes.Loaded + outcomes.Rejected);
        // Both branches are exercised: damage to data bytes (or a digit rewritten in place) still loads.
        Assert.True(outcomes.Loaded > 0 && outcomes.Rejected > 0, $"{outcomes.Loaded} loaded, {outcomes.Rejected} rejected");
    }

    // Headers assembled from plausible and implausible pieces, to reach each semantic check.
    private static readonly Gen<string> GenDtype = Gen.Frequency(
        (6, Gen.Const("\"F32\"")), (1, Gen.OneOfConst("\"F16\"", "\"f32\"", "\"\"", "32", "null", "[]", "{}")));

    private static readonly Gen<string> GenNumber = Gen.Frequency(
        (6, Gen.Int[0, 3].Select(i => i.ToString())),
        (1, Gen.OneOfConst("-1", "-0", "1.5", "4.0", "1e1", "2147483647", "2147483648", "9223372036854775807",
            "18446744073709551616", "1e400", "\"2\"", "null", "true", "[]")));

    // Offsets are mostly multiples of 4 within the data, so that some headers agree with it and others overlap.
    private static readonly Gen<string> GenOffset = Gen.Frequency(
        (6, Gen.Int[0, 6].Select(i => (4 * i).ToString())), (1, GenNumber));

    private static readonly Gen<string> GenShape = Gen.Frequency(
        (8, GenNumber.Array[0, 3].Select(d => "[" + string.Join(",", d) + "]")),
        (1, Gen.OneOfConst("2", "{}", "null", "\"[2]\"")));

    private static readonly Gen<string> GenOffsets = Gen.Frequency(
        (8, Gen.Select(GenOffset, GenOffset, (a, b) => $"[{a},{b}]")),
        (1, GenNumber.Array[0, 3].Select(d => "[" + string.Join(",", d) + "]")),
        (1, Gen.OneOfConst("{}", "7", "null")));

    private static readonly Gen<string> GenEntry = Gen.Frequency(
        (10, Gen.Select(GenDtype, GenShape, GenOffsets, Gen.Int[0, 15], (d, s, o, drop) =>
        {
            // Usually all three fields; sometimes one missing, repeated, or joined by an unknown one.
            var fields = new List<string>();
            if (drop != 1) fields.Add("\"dtype\":" + d);
            if (drop != 2) fields.Add("\"shape\":" + s);
            if (drop != 3) fields.Add("\"data_offsets\":" + o);
            if (drop == 4) fields.Add("\"dtype\":" + d);
            if (drop == 5) fields.Add("\"other\":[1,{\"x\":2}]");
            return "{" + string.Join(",", fields) + "}";
        })),
        (1, Gen.OneOfConst("null", "[]", "5", "\"x\"")));

    private static readonly Gen<string> GenMetadataValue = Gen.OneOfConst(
        "{\"k\":\"v\"}", "{}", "null", "{\"k\":1}", "{\"k\":\"v\",\"k\":\"w\"}", "[]", "\"text\"");

    private static readonly Gen<string> GenHeader =
        Gen.Select(Gen.OneOfConst("a", "b", "c", "a.weight", "__metadata__", "\\u0061").Array[0, 3], GenEntry.Array[3], GenMetadataValue)
            .Select((names, entries, metadata) => "{" + string.Join(",", names.Select((n, i) =>
                $"\"{n}\":" + (n == "__metadata__" ? metadata : entries[i]))) + "}");

    [Fact]
    public void RandomHeaders()
    {
        var outcomes = new Outcomes();
        Gen.Select(GenHeader, Gen.Frequency((3, Gen.Int[0, 6].Select(i => 4 * i)), (1, Gen.Int[0, 48])), Gen.Bool).Sample((header, dataBytes, pad) =>
        {
            if (pad) header = header.PadRight((header.Length + 7) & ~7);
            LoadsOrRejects(SafetensorsTests.FileBytes(header, Enumerable.Range(0, dataBytes).Select(i => (byte)i).ToArray()), outcomes);
        }, iter: 2 * Iterations);
        Assert.True(outcomes.Loaded > 0 && outcomes.Rejected > 0, $"{outcomes.Loaded} loaded, {outcomes.Rejected} rejected");
    }
}
