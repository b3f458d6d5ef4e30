using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using GraphGen.Checkpoints;

namespace GraphGen.Quantization;

// Save and load: a safetensors file with the int8 weights (I8), int32 biases (I32) and float scales (F32),
// and the graph in the metadata, one entry per value and per operation ("key=value;..." text).
public sealed partial class QuantizedNetwork
{
    /// <summary>The "format" metadata of a quantized network's file.</summary>
    public const string Format = "graphgen-int8";

    private const string Prefix = "graphgen.int8.";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the quantized network to a safetensors file, atomically (see <see cref="Safetensors.Write"/>):
    /// per operation <c>opN.weight</c> (I8, O×C×K×K or O×features), <c>opN.weight_scale</c> (F32),
    /// <c>opN.bias</c> (I32, in units of input scale × weight scale), and for a table operation made from a batch
    /// norm <c>opN.scale</c> and <c>opN.shift</c>; the graph, scales and zero points in the metadata.</summary>
    /// <exception cref="System.IO.IOException">The file could not be written; a previous file is intact.</exception>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            [Prefix + "name"] = Name,
            [Prefix + "values"] = Values.Length.ToString(Inv),
            [Prefix + "ops"] = Ops.Length.ToString(Inv),
        };
        for (int i = 0; i < Values.Length; i++)
        {
            QValue v = Values[i];
            metadata[$"{Prefix}value.{i}"] = $"shape={Join(v.Shape)};scale={v.Scale.ToString("R", Inv)};zero_point={v.ZeroPoint}";
        }
        var tensors = new List<SafetensorsTensor>();
        for (int i = 0; i < Ops.Length; i++)
        {
            Int8Op op = Ops[i];
            string common = $"name={op.Name};inputs={Join(op.Inputs)};output={op.Output}";
            switch (op)
            {
                case LinearOp l:
                    metadata[$"{Prefix}op.{i}"] = $"kind=linear;{common};conv={(l.Conv ? 1 : 0)};outputs={l.O};kernel={l.K};stride={l.S};padding={l.P};" +
                        $"activation={l.Act};slope={l.Slope.ToString("R", Inv)};pool={l.PoolK};pool_stride={l.PoolS};final={(l.Final ? 1 : 0)}";
                    tensors.Add(SafetensorsTensor.FromInt8($"op{i}.weight", l.Conv ? [l.O, l.C, l.K, l.K] : [l.O, l.C], l.Weight));
                    tensors.Add(new SafetensorsTensor($"op{i}.weight_scale", [l.O], l.WeightScale));
                    tensors.Add(SafetensorsTensor.FromInt32($"op{i}.bias", [l.O], l.Bias));
                    break;
                case LookupOp t:
                    metadata[$"{Prefix}op.{i}"] = $"kind=lookup;{common};channels={t.Channels};channel_size={t.ChannelSize};activation={t.Act};slope={t.Slope.ToString("R", Inv)};batch_norm={(t.A is null ? 0 : 1)}";
                    if (t.A is not null)
                    {
                        tensors.Add(new SafetensorsTensor($"op{i}.scale", [t.Channels], t.A));
                        tensors.Add(new SafetensorsTensor($"op{i}.shift", [t.Channels], t.B!));
                    }
                    break;
                case PoolOp p:
                    metadata[$"{Prefix}op.{i}"] = $"kind=pool;{common};max={(p.Max ? 1 : 0)};kernel_h={p.KH};kernel_w={p.KW};stride={p.S}";
                    break;
                case AddOp:
                    metadata[$"{Prefix}op.{i}"] = $"kind=add;{common}";
                    break;
            }
        }
        Safetensors.Write(path, tensors, metadata);
    }

    /// <summary>Reads a network written by <see cref="Save"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Threads and kernels.</param>
    /// <exception cref="CheckpointException">The file is missing, malformed, or not a quantized network; the message says what is wrong.</exception>
    public static QuantizedNetwork Load(string path, Int8Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        SafetensorsFile file = Safetensors.Read(path, allowIntegers: true);
        CheckpointException Bad(string problem) => new(path, problem);
        string Meta(string key) => file.Metadata.TryGetValue(key, out string? v) ? v : throw Bad($"the metadata has no \"{key}\"");
        if (!file.Metadata.TryGetValue("format", out string? format) || format != Format)
            throw Bad($"it is not a quantized network (metadata \"format\" is {(format is null ? "missing" : $"\"{format}\"")}, expected \"{Format}\"); 'lenet quantize' writes one");

        int Count(string key, int max) => int.TryParse(Meta(key), NumberStyles.None, Inv, out int n) && n >= 1 && n <= max ? n : throw Bad($"\"{key}\" is not a count from 1 to {max}");
        int valueCount = Count(Prefix + "values", 100_000), opCount = Count(Prefix + "ops", 100_000);
        try
        {
            var values = new QValue[valueCount];
            for (int i = 0; i < valueCount; i++)
            {
                var f = Fields(Meta($"{Prefix}value.{i}"));
                int[] shape = Ints(f, "shape");
                if (shape.Length is not (1 or 3) || shape.Any(d => d <= 0)) throw new FormatException($"value {i} has shape [{Join(shape)}]");
                values[i] = new QValue(shape) { Scale = Float(f, "scale"), ZeroPoint = Int(f, "zero_point") };
                if (!(values[i].Scale > 0) || !float.IsFinite(values[i].Scale) || values[i].ZeroPoint is < 0 or > 255)
                    throw new FormatException($"value {i} has scale {values[i].Scale} and zero point {values[i].ZeroPoint}");
            }
            var ops = new Int8Op[opCount];
            for (int i = 0; i < opCount; i++)
            {
                var f = Fields(Meta($"{Prefix}op.{i}"));
                string name = f.TryGetValue("name", out string? n) ? n : throw new FormatException("no name");
                int[] inputs = Ints(f, "inputs");
                int output = Int(f, "output");
                if (inputs.Length == 0 || inputs.Any(x => x < 0 || x >= output) || output >= valueCount)
                    throw new FormatException($"operation {i} reads values [{Join(inputs)}] and writes {output}, not an earlier-to-later order of the {valueCount} values");
                int[] shape = values[inputs[0]].Shape;
                T Tensor<T>(string suffix, Func<SafetensorsTensor, T?> data, int[] expected) where T : class
                {
                    var t = file.Find($"op{i}.{suffix}") ?? throw new FormatException($"tensor op{i}.{suffix} is missing");
                    if (!t.Shape.SequenceEqual(expected)) throw new FormatException($"tensor op{i}.{suffix} has shape [{Join(t.Shape)}], expected [{Join(expected)}]");
                    return data(t) ?? throw new FormatException($"tensor op{i}.{suffix} is {t.Dtype}, not the expected type");
                }
                switch (f.GetValueOrDefault("kind"))
                {
                    case "linear":
                    {
                        bool conv = Int(f, "conv") == 1;
                        int o = Int(f, "outputs"), k = Int(f, "kernel"), s = Int(f, "stride"), p = Int(f, "padding");
                        if (conv && (shape.Length != 3 || k < 1 || s < 1 || p < 0 || k > shape[1] + 2 * p || k > shape[2] + 2 * p) || o < 1)
                            throw new FormatException($"operation {i} ({name}) has kernel {k}, stride {s}, padding {p}, {o} outputs on [{Join(shape)}]");
                        var l = new LinearOp(name, inputs[0], output, conv, shape, o, k, s, p, [], [],
                            Enum.Parse<Activation>(f["activation"]), Double(f, "slope"), Int(f, "pool"), Int(f, "pool_stride")) { Final = Int(f, "final") == 1 };
                        if (!l.OutputShape.SequenceEqual(values[output].Shape) || (l.PoolK > 0 && (l.PoolS < 1 || l.PH < 1 || l.PW < 1)))
                            throw new FormatException($"operation {i} ({name}) gives [{Join(l.OutputShape)}], its value is [{Join(values[output].Shape)}]");
                        l.Weight = Tensor("weight", t => t.Int8Data, conv ? [o, l.C, k, k] : [o, l.C]);
                        l.WeightScale = Tensor("weight_scale", t => t.Dtype == SafetensorsDtype.F32 ? t.Data : null, [o]);
                        l.Bias = Tensor("bias", t => t.Int32Data, [o]);
                        if (l.WeightScale.Any(x => !(x > 0) || !float.IsFinite(x))) throw new FormatException($"tensor op{i}.weight_scale has a scale that is not positive and finite");
                        if (l.Bias.Any(b => Math.Abs((long)b) > 1 << 29)) throw new FormatException($"tensor op{i}.bias has a value beyond ±2^29");
                        ops[i] = l;
                        break;
                    }
                    case "lookup":
                    {
                        int c = Int(f, "channels"), size = Int(f, "channel_size");
                        if (c < 1 || size < 1 || (long)c * size != values[inputs[0]].Size || values[output].Size != values[inputs[0]].Size)
                            throw new FormatException($"operation {i} ({name}) has {c} channels of {size} on a value of {values[inputs[0]].Size}");
                        bool bn = Int(f, "batch_norm") == 1;
                        ops[i] = new LookupOp(name, inputs[0], output, c, size, Enum.Parse<Activation>(f["activation"]), Double(f, "slope"),
                            bn ? Tensor("scale", t => t.Dtype == SafetensorsDtype.F32 ? t.Data : null, [c]) : null,
                            bn ? Tensor("shift", t => t.Dtype == SafetensorsDtype.F32 ? t.Data : null, [c]) : null);
                        break;
                    }
                    case "pool":
                    {
                        int kh = Int(f, "kernel_h"), kw = Int(f, "kernel_w"), s = Int(f, "stride");
                        if (shape.Length != 3 || kh < 1 || kw < 1 || s < 1 || kh > shape[1] || kw > shape[2])
                            throw new FormatException($"operation {i} ({name}) has a {kh}×{kw} window, stride {s}, on [{Join(shape)}]");
                        var p = new PoolOp(name, inputs[0], output, Int(f, "max") == 1, shape, kh, kw, s);
                        if (!values[output].Shape.SequenceEqual([shape[0], p.OH, p.OW])) throw new FormatException($"operation {i} ({name}) writes a value of the wrong shape");
                        ops[i] = p;
                        break;
                    }
                    case "add":
                        if (inputs.Length != 2 || !values[inputs[1]].Shape.SequenceEqual(shape) || !values[output].Shape.SequenceEqual(shape))
                            throw new FormatException($"operation {i} ({name}) adds values of different shapes");
                        ops[i] = new AddOp(name, inputs[0], inputs[1], output);
                        break;
                    default:
                        throw new FormatException($"operation {i} has kind \"{f.GetValueOrDefault("kind")}\"");
                }
            }
            if (ops.Take(opCount - 1).Any(op => op is LinearOp { Final: true }))
                throw new FormatException("only the last operation may write the logits");
            foreach (Int8Op op in ops) op.Prepare(values);
            return new QuantizedNetwork(Meta(Prefix + "name"), values, ops, options);
        }
        catch (Exception e) when (e is FormatException or KeyNotFoundException or ArgumentException or OverflowException or NotSupportedException)
        {
            throw Bad($"the quantized network is malformed: {e.Message}");
        }
    }

    private static Dictionary<string, string> Fields(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in text.Split(';'))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0 || !fields.TryAdd(part[..eq], part[(eq + 1)..])) throw new FormatException($"\"{part}\" is not one key=value entry");
        }
        return fields;
    }

    private static int Int(Dictionary<string, string> f, string key) =>
        int.TryParse(f.GetValueOrDefault(key), NumberStyles.AllowLeadingSign, Inv, out int v) ? v : throw new FormatException($"\"{key}\" is missing or not an integer");

    private static int[] Ints(Dictionary<string, string> f, string key) =>
        f.TryGetValue(key, out string? text) ? text.Split(',').Select(x => int.Parse(x, NumberStyles.AllowLeadingSign, Inv)).ToArray() : throw new FormatException($"\"{key}\" is missing");

    private static float Float(Dictionary<string, string> f, string key) =>
        float.TryParse(f.GetValueOrDefault(key), NumberStyles.Float, Inv, out float v) ? v : throw new FormatException($"\"{key}\" is missing or not a number");

    private static double Double(Dictionary<string, string> f, string key) =>
        double.TryParse(f.GetValueOrDefault(key), NumberStyles.Float, Inv, out double v) ? v : throw new FormatException($"\"{key}\" is missing or not a number");

    private static string Join(IEnumerable<int> values) => string.Join(",", values);
}
