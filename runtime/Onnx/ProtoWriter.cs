using System;
using System.Buffers.Binary;
using System.Text;

namespace GraphGen.Onnx;

/// <summary>
/// A minimal protocol-buffers encoder: just the wire types ONNX needs (varint, 32-bit, length-delimited).
/// Submessages are written into their own writer and then embedded with their length prefix.
/// Repeated scalars are written unpacked (one key per element), which is what onnx.proto (proto2, no
/// <c>[packed = true]</c> on dims or ints) declares; every protobuf parser accepts it.
/// </summary>
internal sealed class ProtoWriter
{
    private const int WireVarint = 0, WireLengthDelimited = 2, WireFixed32 = 5;

    private byte[] _buffer;
    private int _length;

    public ProtoWriter(int capacity = 256) => _buffer = new byte[Math.Max(capacity, 16)];

    /// <summary>Bytes written so far.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far (a view, valid until the next write).</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>An int64/int32/enum/bool field (varint; negative values take ten bytes, as protobuf specifies).</summary>
    public void WriteInt64(int field, long value)
    {
        WriteKey(field, WireVarint);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>A float field (fixed 32 bits, little-endian).</summary>
    public void WriteFloat(int field, float value)
    {
        WriteKey(field, WireFixed32);
        Span<byte> span = Reserve(4);
        BinaryPrimitives.WriteSingleLittleEndian(span, value);
    }

    /// <summary>A string field, UTF-8.</summary>
    public void WriteString(int field, string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        WriteKey(field, WireLengthDelimited);
        WriteVarint((ulong)count);
        Encoding.UTF8.GetBytes(value, Reserve(count));
    }

    /// <summary>A bytes field.</summary>
    public void WriteBytes(int field, ReadOnlySpan<byte> value)
    {
        WriteKey(field, WireLengthDelimited);
        WriteVarint((ulong)value.Length);
        value.CopyTo(Reserve(value.Length));
    }

    /// <summary>A bytes field holding floats as little-endian IEEE 754 (TensorProto.raw_data).</summary>
    public void WriteFloatsAsBytes(int field, ReadOnlySpan<float> values)
    {
        int count = checked(values.Length * 4);
        WriteKey(field, WireLengthDelimited);
        WriteVarint((ulong)count);
        Span<byte> span = Reserve(count);
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(span.Slice(i * 4, 4), values[i]);
    }

    /// <summary>An embedded message field: the message's bytes with their length prefix.</summary>
    public void WriteMessage(int field, ProtoWriter message) => WriteBytes(field, message.WrittenSpan);

    /// <summary>An embedded message field built by <paramref name="body"/>.</summary>
    public void WriteMessage(int field, Action<ProtoWriter> body)
    {
        var message = new ProtoWriter();
        body(message);
        WriteMessage(field, message);
    }

    private void WriteKey(int field, int wireType)
    {
        if (field <= 0 || field > 0x1FFF_FFFF)
            throw new ArgumentOutOfRangeException(nameof(field), field, "protobuf field numbers are 1 to 2^29-1");
        WriteVarint(((ulong)field << 3) | (uint)wireType);
    }

    private void WriteVarint(ulong value)
    {
        Span<byte> span = Reserve(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        _length -= 10 - n;
    }

    private Span<byte> Reserve(int count)
    {
        int needed = checked(_length + count);
        if (needed > _buffer.Length)
        {
            long grown = Math.Max((long)_buffer.Length * 2, needed);
            Array.Resize(ref _buffer, (int)Math.Min(grown, Array.MaxLength));
            if (_buffer.Length < needed) throw new InvalidOperationException("the ONNX model is larger than 2 GB, the protobuf limit");
        }
        Span<byte> span = _buffer.AsSpan(_length, count);
        _length = needed;
        return span;
    }
}
