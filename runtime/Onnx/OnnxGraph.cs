using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace GraphGen.Onnx;

/// <summary>A value of the graph being written: the name <see cref="LayerInfo.Inputs"/> uses, its ONNX value
/// and its per-sample shape.</summary>
internal readonly record struct OnnxValue(string Name, string Onnx, int[] Shape);

/// <summary>A layer's node as its <see cref="Nodes.NodeWriter"/> gives it: operator, inputs, per-sample output
/// shape and attributes. The exporter names it after the layer and checks the shape.</summary>
internal sealed record OnnxNode(string OpType, string[] Inputs, int[] Shape, Action<ProtoWriter>? Attributes = null);

/// <summary>
/// The GraphProto's parts while <see cref="OnnxExporter"/> walks the layers: nodes, initializers and value
/// infos, and the names taken. The node writers add their initializers and helper nodes (Flatten, a SiLU's
/// Sigmoid) here.
/// </summary>
internal sealed class OnnxGraph
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    private readonly Dictionary<string, TensorInfo> _tensorInfos = new(StringComparer.Ordinal);
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal) { OnnxExporter.InputName, OnnxExporter.OutputName };
    private readonly HashSet<string> _initialized = new(StringComparer.Ordinal);
    private readonly HashSet<string> _layerNames;
    private readonly Dictionary<string, string> _flattened = new(StringComparer.Ordinal); // ONNX value → its Flatten
    private int _flattens;

    public OnnxGraph(INetwork net, IReadOnlyList<LayerInfo> layers)
    {
        Net = net;
        foreach (var t in net.Tensors)
            _tensorInfos[t.Name] = t;
        foreach (var t in net.Tensors) _usedNames.Add(t.Name);
        _layerNames = new HashSet<string>(layers.Select(l => l.Name), StringComparer.Ordinal);
    }

    public INetwork Net { get; }
    public List<ProtoWriter> Nodes { get; } = new();
    public List<ProtoWriter> Initializers { get; } = new();
    public List<ProtoWriter> ValueInfos { get; } = new();

    /// <summary>A value name not taken yet. A helper node (Flatten, a SiLU's Sigmoid, the output Identity) is named
    /// after its value, so its name also avoids every layer's, which name their nodes: ONNX Runtime
    /// rejects a model with two nodes of one name.</summary>
    public string Fresh(string name, bool helper = true)
    {
        string candidate = name;
        for (int i = 2; (helper && _layerNames.Contains(candidate)) || !_usedNames.Add(candidate); i++) candidate = $"{name}_{i.ToString(CultureInfo.InvariantCulture)}";
        return candidate;
    }

    /// <summary>The layer's tensor number <paramref name="index"/> as an initializer (once, if shared), checked
    /// against the <paramref name="expected"/> shape; returns its name.</summary>
    public string AddInitializer(LayerInfo layer, int index, int[] expected)
    {
        if (layer.Tensors.Length <= index)
            throw new InvalidOperationException($"{Net.Name}: layer {layer.Name} ({layer.Kind}) lists {layer.Tensors.Length} tensors, expected at least {index + 1}");
        string name = layer.Tensors[index];
        if (!_tensorInfos.TryGetValue(name, out var info))
            throw new InvalidOperationException($"{Net.Name}: layer {layer.Name} names tensor {name}, which the network does not have");
        if (!info.Shape.SequenceEqual(expected))
            throw new InvalidOperationException($"{Net.Name}: layer {layer.Name}'s tensor {name} has shape [{Join(info.Shape)}], expected [{Join(expected)}]");
        if (!_initialized.Add(name)) return name; // shared tensor: one initializer
        ReadOnlySpan<float> data = Net.Tensor(name);
        if (data.Length != info.Length)
            throw new InvalidOperationException($"{Net.Name}: layer {layer.Name}'s tensor {name} holds {data.Length} values, its shape [{Join(info.Shape)}] needs {info.Length}");
        var tensor = new ProtoWriter(data.Length * 4 + name.Length + 32);
        foreach (int d in info.Shape) tensor.WriteInt64(1, d); // TensorProto.dims
        tensor.WriteInt64(2, FloatType);                         // TensorProto.data_type
        tensor.WriteString(8, name);                             // TensorProto.name
        tensor.WriteFloatsAsBytes(9, data);                      // TensorProto.raw_data
        Initializers.Add(tensor);
        return name;
    }

    public void AddNode(string opType, string name, string[] inputs, string output, Action<ProtoWriter>? attributes = null)
    {
        var node = new ProtoWriter();
        foreach (string input in inputs) node.WriteString(1, input); // NodeProto.input
        node.WriteString(2, output);                                  // NodeProto.output
        node.WriteString(3, name);                                    // NodeProto.name
        node.WriteString(4, opType);                                  // NodeProto.op_type
        attributes?.Invoke(node);
        Nodes.Add(node);
    }

    public void AddValueInfo(string name, int[] perSample) => ValueInfos.Add(OnnxExporter.ValueInfo(name, perSample));

    /// <summary>Flatten (axis 1) turns [N, C, H, W] into [N, C·H·W], row-major, as Dense reads it; once per value.</summary>
    public string Flatten(string value, int[] perSample)
    {
        if (_flattened.TryGetValue(value, out string? done)) return done;
        _flattens++;
        string name = Fresh(_flattens == 1 ? "flatten" : $"flatten{_flattens.ToString(CultureInfo.InvariantCulture)}");
        AddNode("Flatten", name, [value], name, n => OnnxExporter.IntAttribute(n, "axis", 1));
        AddValueInfo(name, [Product(perSample)]);
        _flattened[value] = name;
        return name;
    }

    public void RequireImage(LayerInfo layer, int[] shape)
    {
        if (shape.Length != 3)
            throw new NotSupportedException($"{Net.Name}: layer {layer.Name} ({layer.Kind}) on a [{Join(shape)}] input is not supported by ONNX export (it needs [C, H, W])");
    }

    /// <summary>ONNX's output size for a window without ceil mode or dilation: floor((n + 2p − k) / s) + 1.</summary>
    public int WindowOutput(LayerInfo layer, int n, int k, int s, int p)
    {
        int span = n + 2 * p - k;
        if (span < 0 || s <= 0)
            throw new InvalidOperationException($"{Net.Name}: layer {layer.Name} has window {k}, stride {s}, padding {p} on a side of {n}");
        return span / s + 1;
    }

    public static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }

    public static string Join(IEnumerable<int> shape) => string.Join(", ", shape);
}
