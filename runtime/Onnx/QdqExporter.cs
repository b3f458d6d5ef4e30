using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using GraphGen.Quantization;

namespace GraphGen.Onnx;

/// <summary>
/// Writes a <see cref="QuantizedNetwork"/> as an ONNX model in QDQ form (IR 8, opset 13): every uint8 value is a
/// QuantizeLinear followed by a DequantizeLinear with the value's scale and zero point; int8 weights and int32
/// biases are initializers dequantized per output channel (axis 0); between them run the float operators
/// (Conv, Gemm, the activations, MaxPool, AveragePool, Add, and Mul/Add for a batch norm table). ONNX Runtime
/// fuses such patterns into its integer kernels. Input <c>input</c> [N, …] float, output <c>logits</c> [N, classes].
/// </summary>
public static class QdqExporter
{
    private const int Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6; // TensorProto.DataType

    /// <summary>Encodes <paramref name="net"/> as an ONNX model (the bytes of a .onnx file).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="net"/> is null.</exception>
    public static byte[] Export(QuantizedNetwork net)
    {
        ArgumentNullException.ThrowIfNull(net);
        var nodes = new List<ProtoWriter>();
        var initializers = new List<ProtoWriter>();
        int counter = 0;
        string Fresh(string stem) => $"{stem}_{(counter++).ToString(CultureInfo.InvariantCulture)}";

        void Node(string op, string[] inputs, string output, Action<ProtoWriter>? attributes = null)
        {
            var node = new ProtoWriter();
            foreach (string input in inputs) node.WriteString(1, input);
            node.WriteString(2, output);
            node.WriteString(3, Fresh(op));
            node.WriteString(4, op);
            attributes?.Invoke(node);
            nodes.Add(node);
        }
        string Initializer(string name, int type, int[] dims, ReadOnlySpan<byte> raw)
        {
            var t = new ProtoWriter(raw.Length + name.Length + 32);
            foreach (int d in dims) t.WriteInt64(1, d);
            t.WriteInt64(2, type);
            t.WriteString(8, name);
            t.WriteBytes(9, raw);
            initializers.Add(t);
            return name;
        }
        string Floats(string name, int[] dims, float[] values) => Initializer(name, Float, dims, MemoryMarshal.AsBytes(values.AsSpan()));
        // QuantizeLinear then DequantizeLinear with a value's scale and zero point: the float the int8 graph holds.
        string Requantize(string x, string stem, float scale, int zeroPoint)
        {
            string s = Floats($"{stem}.scale", [], [scale]);
            string z = Initializer($"{stem}.zero_point", UInt8, [], [(byte)zeroPoint]);
            Node("QuantizeLinear", [x, s, z], $"{stem}.q");
            Node("DequantizeLinear", [$"{stem}.q", s, z], $"{stem}.dq");
            return $"{stem}.dq";
        }

        var names = new string[net.Values.Length];
        names[0] = Requantize(OnnxExporter.InputName, "input", net.Values[0].Scale, net.Values[0].ZeroPoint);
        for (int i = 0; i < net.Ops.Length; i++)
        {
            Int8Op op = net.Ops[i];
            string x = names[op.Inputs[0]];
            QValue input = net.Values[op.Inputs[0]], output = net.Values[op.Output];
            string stem = $"op{i.ToString(CultureInfo.InvariantCulture)}";
            string y;
            switch (op)
            {
                case LinearOp l:
                {
                    int depth = l.Conv ? l.C * l.K * l.K : l.C;
                    string wq = Initializer($"{stem}.weight_q", Int8, l.Conv ? [l.O, l.C, l.K, l.K] : [l.O, depth], MemoryMarshal.AsBytes(l.Weight.AsSpan()));
                    string ws = Floats($"{stem}.weight_scale", [l.O], l.WeightScale);
                    string wz = Initializer($"{stem}.weight_zero_point", Int8, [l.O], new byte[l.O]);
                    Node("DequantizeLinear", [wq, ws, wz], $"{stem}.weight", n => OnnxExporter.IntAttribute(n, "axis", 0));
                    var biasScale = new float[l.O];
                    for (int o = 0; o < l.O; o++) biasScale[o] = (float)((double)input.Scale * l.WeightScale[o]);
                    string bq = Initializer($"{stem}.bias_q", Int32, [l.O], MemoryMarshal.AsBytes(l.Bias.AsSpan()));
                    string bs = Floats($"{stem}.bias_scale", [l.O], biasScale);
                    string bz = Initializer($"{stem}.bias_zero_point", Int32, [l.O], new byte[4 * l.O]);
                    Node("DequantizeLinear", [bq, bs, bz], $"{stem}.bias", n => OnnxExporter.IntAttribute(n, "axis", 0));
                    y = $"{stem}.linear";
                    if (l.Conv)
                    {
                        Node("Conv", [x, $"{stem}.weight", $"{stem}.bias"], y, n =>
                        {
                            OnnxExporter.IntsAttribute(n, "kernel_shape", l.K, l.K);
                            OnnxExporter.IntsAttribute(n, "strides", l.S, l.S);
                            OnnxExporter.IntsAttribute(n, "pads", l.P, l.P, l.P, l.P);
                        });
                    }
                    else
                    {
                        if (input.Shape.Length == 3) { Node("Flatten", [x], $"{stem}.flat", n => OnnxExporter.IntAttribute(n, "axis", 1)); x = $"{stem}.flat"; }
                        Node("Gemm", [x, $"{stem}.weight", $"{stem}.bias"], y, n => OnnxExporter.IntAttribute(n, "transB", 1));
                    }
                    y = Activation(y, stem, l.Act, l.Slope);
                    if (l.PoolK > 0)
                    {
                        Node("MaxPool", [y], $"{stem}.pool", n => { OnnxExporter.IntsAttribute(n, "kernel_shape", l.PoolK, l.PoolK); OnnxExporter.IntsAttribute(n, "strides", l.PoolS, l.PoolS); });
                        y = $"{stem}.pool";
                    }
                    if (l.Final)
                    {
                        if (l.Conv) { Node("Flatten", [y], $"{stem}.flat_out", n => OnnxExporter.IntAttribute(n, "axis", 1)); y = $"{stem}.flat_out"; }
                        Node("Identity", [y], OnnxExporter.OutputName);
                        continue;
                    }
                    break;
                }
                case LookupOp t when t.A is not null:
                {
                    int[] dims = input.Shape.Length == 3 ? [t.Channels, 1, 1] : [t.Channels];
                    Node("Mul", [x, Floats($"{stem}.bn_scale", dims, t.A)], $"{stem}.mul");
                    Node("Add", [$"{stem}.mul", Floats($"{stem}.bn_shift", dims, t.B!)], $"{stem}.add");
                    y = $"{stem}.add";
                    break;
                }
                case LookupOp t:
                    y = Activation(x, stem, t.Act, t.Slope);
                    break;
                case PoolOp p:
                    Node(p.Max ? "MaxPool" : "AveragePool", [x], $"{stem}.pool", n => { OnnxExporter.IntsAttribute(n, "kernel_shape", p.KH, p.KW); OnnxExporter.IntsAttribute(n, "strides", p.S, p.S); });
                    y = $"{stem}.pool";
                    break;
                case AddOp:
                    Node("Add", [x, names[op.Inputs[1]]], $"{stem}.add");
                    y = $"{stem}.add";
                    break;
                default:
                    throw new NotSupportedException($"operation {op.Name} ({op.GetType().Name}) has no ONNX form");
            }
            names[op.Output] = Requantize(y, stem, output.Scale, output.ZeroPoint);
        }
        if (net.Ops[^1] is not LinearOp { Final: true })
        {
            string last = names[net.Ops[^1].Output];
            if (net.Values[net.Ops[^1].Output].Shape.Length == 3) { Node("Flatten", [last], "output.flat", n => OnnxExporter.IntAttribute(n, "axis", 1)); last = "output.flat"; }
            Node("Identity", [last], OnnxExporter.OutputName);
        }

        string Activation(string x, string stem, Activation act, double slope)
        {
            string y = $"{stem}.act";
            switch (act)
            {
                case Quantization.Activation.Identity: return x;
                case Quantization.Activation.ReLU: Node("Relu", [x], y); break;
                case Quantization.Activation.Sigmoid: Node("Sigmoid", [x], y); break;
                case Quantization.Activation.Tanh: Node("Tanh", [x], y); break;
                case Quantization.Activation.LeakyReLU: Node("LeakyRelu", [x], y, n => OnnxExporter.FloatAttribute(n, "alpha", (float)slope)); break;
                case Quantization.Activation.SiLU:
                    Node("Sigmoid", [x], $"{stem}.sigmoid");
                    Node("Mul", [x, $"{stem}.sigmoid"], y);
                    break;
            }
            return y;
        }

        var graph = new ProtoWriter(4096);
        foreach (var node in nodes) graph.WriteMessage(1, node);
        graph.WriteString(2, net.Name + "_int8");
        foreach (var t in initializers) graph.WriteMessage(5, t);
        graph.WriteMessage(11, OnnxExporter.ValueInfo(OnnxExporter.InputName, [.. net.InputShape]));
        graph.WriteMessage(12, OnnxExporter.ValueInfo(OnnxExporter.OutputName, [net.Classes]));

        var model = new ProtoWriter(graph.Length + 64);
        model.WriteInt64(1, OnnxExporter.IrVersion);
        model.WriteString(2, "GraphGen");
        model.WriteMessage(7, graph);
        model.WriteMessage(8, opset => { opset.WriteString(1, ""); opset.WriteInt64(2, OnnxExporter.OpsetVersion); });
        return model.ToArray();
    }
}
