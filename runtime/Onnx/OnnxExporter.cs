using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;

namespace GraphGen.Onnx;

/// <summary>
/// Writes a network, in inference mode, as an ONNX model (IR version 8, default-domain opset 13) that
/// ONNX Runtime and other ONNX consumers can run. The protobuf is encoded by hand, so the runtime needs
/// no package and stays NativeAOT-compatible.
/// </summary>
/// <remarks>
/// <para>The model has one input, <c>input</c>, of shape [N, C, H, W] (or [N, features] for a flat
/// network) and one output, <c>logits</c>, of shape [N, classes], where N is the symbolic batch
/// dimension <c>"N"</c>. Each layer becomes one node named after the layer (a Dense on a [C, H, W] value is
/// preceded by a Flatten, a SiLU by a Sigmoid); the parameters become
/// initializers under their checkpoint names (<c>conv1.weight</c>, <c>batchnorm1.moving_var</c>, ...).</para>
/// <para>Layer mapping: Conv2D → Conv (symmetric pads, strides, O×I×kH×kW weight, bias); Dense → Gemm with
/// transB = 1 (out×in weight), preceded by a Flatten (axis 1) when its input is 4-D; BatchNorm →
/// BatchNormalization with the moving statistics (scale = gamma, B = beta, mean = moving_mean,
/// var = moving_var); Sigmoid, ReLU, Tanh → Sigmoid, Relu, Tanh; LeakyReLU → LeakyRelu with alpha = the slope
/// (as a float); SiLU → Sigmoid, then Mul of the input and that sigmoid (no SiLU operator needed); Dropout →
/// Identity (its step counter is not exported); MaxPool2D/AvgPool2D → MaxPool/AveragePool
/// without padding; GlobalAvgPool2D → GlobalAveragePool; Add → Add of two inputs of equal shape; Concat →
/// Concat (axis 1) of two or more inputs in order, all [N, C, H, W] with the same H×W or all [N, features]
/// (the same value may be an input more than once).</para>
/// <para>The network is a graph: each layer's node reads the values its <see cref="LayerInfo.Inputs"/> name
/// (the layer before it when empty), so a value read by several layers (a residual block's input) is one
/// ONNX value referenced by each of their nodes. The layers are in topological order, every layer but the
/// last is read by a later one, and the last layer's output is the logits.</para>
/// <para>The values are the current ones of <see cref="INetwork.Tensor(string)"/>; the export must not run
/// concurrently with a training step or a parameter write.</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written.</summary>
    public const long IrVersion = 8;

    /// <summary>The version of the default ("ai.onnx") operator set the model imports.</summary>
    public const long OpsetVersion = 13;

    /// <summary>The name of the model's input.</summary>
    public const string InputName = "input";

    /// <summary>The name of the model's output.</summary>
    public const string OutputName = "logits";

    /// <summary>The name of the symbolic batch dimension of the input and the output.</summary>
    public const string BatchDimension = "N";

    private const int FloatType = 1; // TensorProto.DataType.FLOAT

    /// <summary>Writes <paramref name="net"/> as an ONNX model to <paramref name="path"/>. The file is written to a
    /// temporary file in the same directory and then renamed over <paramref name="path"/>, so readers never see a
    /// partial model and a failed export leaves any previous file intact.</summary>
    /// <param name="net">The network to export.</param>
    /// <param name="path">The .onnx file to create or replace; its directory must exist.</param>
    /// <exception cref="ArgumentNullException"><paramref name="net"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="NotSupportedException">The network has a layer or a layer order that ONNX export does not handle.</exception>
    /// <exception cref="InvalidOperationException">The network's layer and tensor descriptions are inconsistent (shapes,
    /// tensors, or a graph whose inputs name no earlier layer or whose layers other than the last are never read).</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    public static void Export(INetwork net, string path)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = Export(net);

        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full) ?? ".";
        string temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Encodes <paramref name="net"/> as an ONNX model (the bytes of a .onnx file).</summary>
    /// <param name="net">The network to export.</param>
    /// <returns>The serialized ModelProto. The same network with the same values always gives the same bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="net"/> is null.</exception>
    /// <exception cref="NotSupportedException">The network has a layer or a layer order that ONNX export does not handle.</exception>
    /// <exception cref="InvalidOperationException">The network's layer and tensor descriptions are inconsistent (shapes,
    /// tensors, or a graph whose inputs name no earlier layer or whose layers other than the last are never read).</exception>
    public static byte[] Export(INetwork net)
    {
        ArgumentNullException.ThrowIfNull(net);
        return ExportLayers(net, net.Layers);
    }

    // The layer list is separate so that tests can feed the checks descriptions no generator produces.
    internal static byte[] ExportLayers(INetwork net, IReadOnlyList<LayerInfo> layers)
    {
        var graph = BuildGraph(net, layers);

        var model = new ProtoWriter(graph.Length + 64);
        model.WriteInt64(1, IrVersion);                       // ModelProto.ir_version
        model.WriteString(2, "GraphGen");                     // ModelProto.producer_name
        string? version = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3);
        if (version is not null) model.WriteString(3, version); // ModelProto.producer_version
        model.WriteMessage(7, graph);                         // ModelProto.graph
        model.WriteMessage(8, opset =>                        // ModelProto.opset_import
        {
            opset.WriteString(1, "");                         // OperatorSetIdProto.domain
            opset.WriteInt64(2, OpsetVersion);                // OperatorSetIdProto.version
        });
        return model.ToArray();
    }

    // GraphProto: node = 1, name = 2, initializer = 5, input = 11, output = 12, value_info = 13.
    private static ProtoWriter BuildGraph(INetwork net, IReadOnlyList<LayerInfo> layers)
    {
        var tensorInfos = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var t in net.Tensors)
            tensorInfos[t.Name] = t;

        int[] inputShape = net.InputShape.ToArray();
        if (inputShape.Length is not (1 or 3))
            throw new NotSupportedException($"{net.Name}: ONNX export handles [C, H, W] or [features] inputs, not [{Join(inputShape)}]");
        if (inputShape.Any(d => d <= 0))
            throw new InvalidOperationException($"{net.Name}: input shape [{Join(inputShape)}] has a dimension that is not positive");

        var nodes = new List<ProtoWriter>();
        var initializers = new List<ProtoWriter>();
        var valueInfos = new List<ProtoWriter>();
        var usedNames = new HashSet<string>(StringComparer.Ordinal) { InputName, OutputName };
        foreach (var t in net.Tensors) usedNames.Add(t.Name);
        var initialized = new HashSet<string>(StringComparer.Ordinal);

        if (layers.Count == 0)
            throw new InvalidOperationException($"{net.Name}: the network has no layers");

        // Each value the graph has computed so far, by the name LayerInfo.Inputs uses: its ONNX value and
        // per-sample shape. A value read by several layers is simply referenced by each of their nodes.
        var values = new Dictionary<string, (string Onnx, int[] Shape)>(StringComparer.Ordinal) { [LayerInfo.NetworkInput] = (InputName, inputShape) };
        var unread = new List<string>(); // layers whose output no later layer has read yet, in order
        var flattened = new Dictionary<string, string>(StringComparer.Ordinal); // ONNX value → its Flatten
        int flattens = 0;

        // A value name not taken yet. A helper node (Flatten, a SiLU's Sigmoid, the output Identity) is named
        // after its value, so its name also avoids every layer's, which name their nodes: ONNX Runtime
        // rejects a model with two nodes of one name.
        var layerNames = new HashSet<string>(layers.Select(l => l.Name), StringComparer.Ordinal);
        string Fresh(string name, bool helper = true)
        {
            string candidate = name;
            for (int i = 2; (helper && layerNames.Contains(candidate)) || !usedNames.Add(candidate); i++) candidate = $"{name}_{i.ToString(CultureInfo.InvariantCulture)}";
            return candidate;
        }

        string AddInitializer(LayerInfo layer, int index, int[] expected)
        {
            if (layer.Tensors.Length <= index)
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name} ({layer.Kind}) lists {layer.Tensors.Length} tensors, expected at least {index + 1}");
            string name = layer.Tensors[index];
            if (!tensorInfos.TryGetValue(name, out var info))
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name} names tensor {name}, which the network does not have");
            if (!info.Shape.SequenceEqual(expected))
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name}'s tensor {name} has shape [{Join(info.Shape)}], expected [{Join(expected)}]");
            if (!initialized.Add(name)) return name; // shared tensor: one initializer
            ReadOnlySpan<float> data = net.Tensor(name);
            if (data.Length != info.Length)
                throw new InvalidOperationException($"{net.Name}: layer {layer.Name}'s tensor {name} holds {data.Length} values, its shape [{Join(info.Shape)}] needs {info.Length}");
            var tensor = new ProtoWriter(data.Length * 4 + name.Length + 32);
            foreach (int d in info.Shape) tensor.WriteInt64(1, d); // TensorProto.dims
            tensor.WriteInt64(2, FloatType);                         // TensorProto.data_type
            tensor.WriteString(8, name);                             // TensorProto.name
            tensor.WriteFloatsAsBytes(9, data);                      // TensorProto.raw_data
            initializers.Add(tensor);
            return name;
        }

        void AddNode(string opType, string name, string[] inputs, string output, Action<ProtoWriter>? attributes = null)
        {
            var node = new ProtoWriter();
            foreach (string input in inputs) node.WriteString(1, input); // NodeProto.input
            node.WriteString(2, output);                                  // NodeProto.output
            node.WriteString(3, name);                                    // NodeProto.name
            node.WriteString(4, opType);                                  // NodeProto.op_type
            attributes?.Invoke(node);
            nodes.Add(node);
        }

        void AddValueInfo(string name, int[] perSample) => valueInfos.Add(ValueInfo(name, perSample));

        // Flatten (axis 1) turns [N, C, H, W] into [N, C·H·W], row-major, as Dense reads it; once per value.
        string Flatten(string value, int[] perSample)
        {
            if (flattened.TryGetValue(value, out string? done)) return done;
            flattens++;
            string name = Fresh(flattens == 1 ? "flatten" : $"flatten{flattens.ToString(CultureInfo.InvariantCulture)}");
            AddNode("Flatten", name, [value], name, n => IntAttribute(n, "axis", 1));
            AddValueInfo(name, [Product(perSample)]);
            flattened[value] = name;
            return name;
        }

        // What a layer reads: its Inputs, or the layer before it (the network input for the first layer).
        (string Name, string Onnx, int[] Shape)[] Read(LayerInfo layer, int index)
        {
            string[] names = layer.Inputs.Length > 0 ? layer.Inputs : [index == 0 ? LayerInfo.NetworkInput : layers[index - 1].Name];
            bool concat = layer.Kind == LayerKind.Concat;
            int expected = layer.Kind == LayerKind.Add ? 2 : 1;
            if (concat ? names.Length < 2 : names.Length != expected)
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) reads {names.Length} values ({string.Join(", ", names)}), expected {(concat ? "at least 2" : expected)}");
            var read = new (string, string, int[])[names.Length];
            for (int i = 0; i < names.Length; i++)
            {
                if (!values.TryGetValue(names[i], out var value))
                    throw new InvalidOperationException(
                        $"{net.Name}: layer {layer.Name} ({layer.Kind}) reads {names[i]}, which is neither the network input ({LayerInfo.NetworkInput}) nor an earlier layer");
                unread.Remove(names[i]);
                read[i] = (names[i], value.Onnx, value.Shape);
            }
            return read;
        }

        for (int li = 0; li < layers.Count; li++)
        {
            var layer = layers[li];
            bool last = li == layers.Count - 1;
            if (values.ContainsKey(layer.Name)) // the network input's name included
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) has the name of the network input or of an earlier layer, so its readers are ambiguous");
            var sources = Read(layer, li);
            if (layer.Kind == LayerKind.Add && !sources[0].Shape.SequenceEqual(sources[1].Shape))
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} (Add) adds {sources[0].Name} [{Join(sources[0].Shape)}] and {sources[1].Name} [{Join(sources[1].Shape)}], which differ in shape");
            // A Concat's InputShape is its first input's; the others may differ in channels (checked below).
            foreach (var source in layer.Kind == LayerKind.Concat ? sources[..1] : sources)
            {
                if (!layer.InputShape.SequenceEqual(source.Shape))
                    throw new InvalidOperationException(
                        $"{net.Name}: layer {layer.Name} ({layer.Kind}) takes [{Join(layer.InputShape)}] but its input {source.Name} gives [{Join(source.Shape)}]");
            }
            string current = sources[0].Onnx;
            int[] shape = sources[0].Shape;

            int[] outShape;
            string opType;
            string[] inputs;
            Action<ProtoWriter>? attributes = null;
            switch (layer.Kind)
            {
                case LayerKind.Conv2D:
                {
                    RequireImage(net, layer, shape);
                    int c = shape[0], h = shape[1], w = shape[2], o = layer.Outputs, groups = layer.Groups;
                    int kh = layer.Kernel, kw = layer.KernelWidth, sh = layer.Stride, sw = layer.StrideWidth, ph = layer.Padding, pw = layer.PaddingWidth;
                    if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || ph < 0 || pw < 0 || o <= 0)
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has kernel {kh}x{kw}, stride {sh}x{sw}, padding {ph}x{pw}, {o} outputs");
                    if (groups <= 0 || c % groups != 0 || o % groups != 0)
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has {groups} groups, which must divide its {c} input channels and {o} outputs");
                    outShape = [o, WindowOutput(net, layer, h, kh, sh, ph), WindowOutput(net, layer, w, kw, sw, pw)];
                    string weight = AddInitializer(layer, 0, [o, c / groups, kh, kw]);
                    string bias = AddInitializer(layer, 1, [o]);
                    opType = "Conv";
                    inputs = [current, weight, bias];
                    attributes = n =>
                    {
                        IntsAttribute(n, "kernel_shape", kh, kw);
                        IntsAttribute(n, "strides", sh, sw);
                        IntsAttribute(n, "pads", ph, pw, ph, pw);
                        IntsAttribute(n, "dilations", 1, 1);
                        IntAttribute(n, "group", groups);
                    };
                    break;
                }
                case LayerKind.Dense:
                {
                    if (shape.Length == 3)
                        (current, shape) = (Flatten(current, shape), [Product(shape)]);
                    else if (shape.Length != 1)
                        throw new NotSupportedException($"{net.Name}: layer {layer.Name} (Dense) on a [{Join(shape)}] input is not supported by ONNX export");
                    int o = layer.Outputs;
                    if (o <= 0)
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has {o} outputs");
                    outShape = [o];
                    string weight = AddInitializer(layer, 0, [o, shape[0]]);
                    string bias = AddInitializer(layer, 1, [o]);
                    opType = "Gemm";
                    inputs = [current, weight, bias];
                    attributes = n =>
                    {
                        FloatAttribute(n, "alpha", 1f);
                        FloatAttribute(n, "beta", 1f);
                        IntAttribute(n, "transA", 0);
                        IntAttribute(n, "transB", 1);
                    };
                    break;
                }
                case LayerKind.BatchNorm:
                {
                    if (shape.Length is not (1 or 3))
                        throw new NotSupportedException($"{net.Name}: layer {layer.Name} (BatchNorm) on a [{Join(shape)}] input is not supported by ONNX export");
                    int c = shape[0];
                    if (!(layer.Epsilon > 0) || !double.IsFinite(layer.Epsilon))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has epsilon {layer.Epsilon}");
                    outShape = shape;
                    inputs =
                    [
                        current,
                        AddInitializer(layer, 0, [c]), // gamma
                        AddInitializer(layer, 1, [c]), // beta
                        AddInitializer(layer, 2, [c]), // moving_mean
                        AddInitializer(layer, 3, [c]), // moving_var
                    ];
                    opType = "BatchNormalization";
                    float epsilon = (float)layer.Epsilon, momentum = (float)layer.Momentum;
                    attributes = n =>
                    {
                        FloatAttribute(n, "epsilon", epsilon);
                        FloatAttribute(n, "momentum", momentum);
                    };
                    break;
                }
                case LayerKind.Sigmoid:
                case LayerKind.ReLU:
                case LayerKind.Tanh:
                    outShape = shape;
                    opType = layer.Kind switch { LayerKind.Sigmoid => "Sigmoid", LayerKind.ReLU => "Relu", _ => "Tanh" };
                    inputs = [current];
                    break;
                case LayerKind.LeakyReLU:
                {
                    if (!(layer.Slope is >= 0 and < 1))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} (LeakyReLU) has slope {layer.Slope}, expected a value in [0, 1)");
                    float alpha = (float)layer.Slope;
                    outShape = shape;
                    opType = "LeakyRelu";
                    inputs = [current];
                    attributes = n => FloatAttribute(n, "alpha", alpha);
                    break;
                }
                case LayerKind.Dropout:
                    // The export is inference, where dropout passes its input through.
                    if (!(layer.Rate is >= 0 and < 1))
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} (Dropout) has rate {layer.Rate}, expected a value in [0, 1)");
                    outShape = shape;
                    opType = "Identity";
                    inputs = [current];
                    break;
                case LayerKind.SiLU:
                {
                    // x·σ(x): a Sigmoid node of its own, then this layer's node multiplies.
                    string sigmoid = Fresh($"{layer.Name}_sigmoid");
                    AddNode("Sigmoid", sigmoid, [current], sigmoid);
                    AddValueInfo(sigmoid, shape);
                    outShape = shape;
                    opType = "Mul";
                    inputs = [current, sigmoid]; // equal shapes, so no broadcasting
                    break;
                }
                case LayerKind.MaxPool2D:
                case LayerKind.AvgPool2D:
                {
                    RequireImage(net, layer, shape);
                    int k = layer.Kernel, s = layer.Stride > 0 ? layer.Stride : layer.Kernel;
                    if (k <= 0)
                        throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has window {k}");
                    outShape = [shape[0], WindowOutput(net, layer, shape[1], k, s, 0), WindowOutput(net, layer, shape[2], k, s, 0)];
                    opType = layer.Kind == LayerKind.MaxPool2D ? "MaxPool" : "AveragePool";
                    inputs = [current];
                    attributes = n =>
                    {
                        IntsAttribute(n, "kernel_shape", k, k);
                        IntsAttribute(n, "strides", s, s);
                        IntsAttribute(n, "pads", 0, 0, 0, 0);
                    };
                    break;
                }
                case LayerKind.GlobalAvgPool2D:
                    RequireImage(net, layer, shape);
                    outShape = [shape[0], 1, 1];
                    opType = "GlobalAveragePool";
                    inputs = [current];
                    break;
                case LayerKind.Add:
                    outShape = shape;
                    opType = "Add";
                    inputs = [current, sources[1].Onnx]; // main path, shortcut: shapes equal, so no broadcasting
                    break;
                case LayerKind.Concat:
                {
                    int channels = 0;
                    foreach (var source in sources)
                    {
                        if (source.Shape.Length != shape.Length || !source.Shape.AsSpan(1).SequenceEqual(shape.AsSpan(1)))
                            throw new InvalidOperationException(
                                $"{net.Name}: layer {layer.Name} (Concat) concatenates {sources[0].Name} [{Join(shape)}] and {source.Name} [{Join(source.Shape)}]; "
                                + "its inputs must all be flat or all [C, H, W] with the same H×W");
                        channels += source.Shape[0];
                    }
                    outShape = [channels, .. shape.AsSpan(1)];
                    opType = "Concat";
                    inputs = sources.Select(source => source.Onnx).ToArray();
                    attributes = n => IntAttribute(n, "axis", 1); // channels in [N, C, H, W], features in [N, F]
                    break;
                }
                default:
                    throw new NotSupportedException($"{net.Name}: layer {layer.Name} is of kind {layer.Kind}, which ONNX export does not support");
            }

            if (!layer.OutputShape.SequenceEqual(outShape))
                throw new InvalidOperationException(
                    $"{net.Name}: layer {layer.Name} ({layer.Kind}) declares output [{Join(layer.OutputShape)}], ONNX {opType} gives [{Join(outShape)}]");

            // The last layer writes the graph output directly unless a flatten must follow it.
            string output = last && outShape.Length == 1 ? OutputName : Fresh(layer.Name, helper: false);
            AddNode(opType, layer.Name, inputs, output, attributes);
            values[layer.Name] = (output, outShape);
            if (!last) unread.Add(layer.Name);
            if (output != OutputName) AddValueInfo(output, outShape);
        }

        if (unread.Count > 0)
            throw new InvalidOperationException(
                $"{net.Name}: no layer reads the output of {string.Join(", ", unread)}, and only the last layer ({layers[^1].Name}) is the network's output");
        var (result, resultShape) = values[layers[^1].Name];
        if (result != OutputName)
        {
            if (resultShape.Length == 3) (result, resultShape) = (Flatten(result, resultShape), [Product(resultShape)]);
            AddNode("Identity", Fresh("output"), [result], OutputName);
        }
        if (resultShape.Length != 1 || resultShape[0] != net.Classes)
            throw new InvalidOperationException(
                $"{net.Name}: the last layer, {layers[^1].Name}, gives [{Join(resultShape)}] per sample, the network has {net.Classes} classes");

        var graph = new ProtoWriter(initializers.Sum(t => t.Length + 8) + 4096);
        foreach (var node in nodes) graph.WriteMessage(1, node);              // GraphProto.node
        graph.WriteString(2, net.Name);                                        // GraphProto.name
        foreach (var tensor in initializers) graph.WriteMessage(5, tensor);   // GraphProto.initializer
        graph.WriteMessage(11, ValueInfo(InputName, inputShape));              // GraphProto.input
        graph.WriteMessage(12, ValueInfo(OutputName, [net.Classes]));         // GraphProto.output
        foreach (var info in valueInfos) graph.WriteMessage(13, info);        // GraphProto.value_info
        return graph;
    }

    // ValueInfoProto { name = 1, type = 2 }; TypeProto { tensor_type = 1 }; TypeProto.Tensor { elem_type = 1, shape = 2 };
    // TensorShapeProto { dim = 1 }; Dimension { dim_value = 1, dim_param = 2 }. The batch axis is symbolic.
    internal static ProtoWriter ValueInfo(string name, int[] perSample)
    {
        var info = new ProtoWriter();
        info.WriteString(1, name);
        info.WriteMessage(2, type => type.WriteMessage(1, tensor =>
        {
            tensor.WriteInt64(1, FloatType);
            tensor.WriteMessage(2, shape =>
            {
                shape.WriteMessage(1, dim => dim.WriteString(2, BatchDimension));
                foreach (int d in perSample)
                    shape.WriteMessage(1, dim => dim.WriteInt64(1, d));
            });
        }));
        return info;
    }

    // AttributeProto: name = 1, f = 2, i = 3, ints = 8, type = 20 (FLOAT = 1, INT = 2, INTS = 7).
    internal static void IntAttribute(ProtoWriter node, string name, long value) =>
        node.WriteMessage(5, a => { a.WriteString(1, name); a.WriteInt64(3, value); a.WriteInt64(20, 2); });

    internal static void FloatAttribute(ProtoWriter node, string name, float value) =>
        node.WriteMessage(5, a => { a.WriteString(1, name); a.WriteFloat(2, value); a.WriteInt64(20, 1); });

    internal static void IntsAttribute(ProtoWriter node, string name, params long[] values) =>
        node.WriteMessage(5, a =>
        {
            a.WriteString(1, name);
            foreach (long v in values) a.WriteInt64(8, v);
            a.WriteInt64(20, 7);
        });

    private static void RequireImage(INetwork net, LayerInfo layer, int[] shape)
    {
        if (shape.Length != 3)
            throw new NotSupportedException($"{net.Name}: layer {layer.Name} ({layer.Kind}) on a [{Join(shape)}] input is not supported by ONNX export (it needs [C, H, W])");
    }

    // ONNX's output size for a window without ceil mode or dilation: floor((n + 2p − k) / s) + 1.
    private static int WindowOutput(INetwork net, LayerInfo layer, int n, int k, int s, int p)
    {
        int span = n + 2 * p - k;
        if (span < 0 || s <= 0)
            throw new InvalidOperationException($"{net.Name}: layer {layer.Name} has window {k}, stride {s}, padding {p} on a side of {n}");
        return span / s + 1;
    }

    private static int Product(int[] shape)
    {
        int n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }

    private static string Join(IEnumerable<int> shape) => string.Join(", ", shape);
}
