// Binding of the pixel codecs: encoded bytes in, decoded samples written into a buffer the
// caller owns (a numpy array), or encoded bytes out. The GIL is released around all codec work.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>
#include <vector>

#include "codec/common/codec_error.hpp"
#include "codec/jpeg/decoder.hpp"
#include "codec/jpeg/encoder.hpp"
#include "codec/rle/rle.hpp"
#include "pixels/decode.hpp"

namespace py = pybind11;

namespace turbodicom::bindings {

namespace {

PyObject* pixel_error_type = nullptr;

// (rows, columns, samples_per_pixel, bits_allocated, bits_stored, is_signed, planar_configuration)
using desc_tuple = std::tuple<std::uint32_t, std::uint32_t, std::uint16_t, std::uint16_t, std::uint16_t, bool,
                              std::uint16_t>;

codec::frame_desc to_desc(const desc_tuple& t) {
    codec::frame_desc d;
    std::tie(d.rows, d.columns, d.samples_per_pixel, d.bits_allocated, d.bits_stored, d.is_signed,
             d.planar_configuration) = t;
    return d;
}

pixels::codec_id to_codec(const std::string& transfer_syntax) {
    pixels::codec_id codec;
    if (!pixels::codec_for(transfer_syntax, codec)) {
        throw codec::codec_error(codec::codec_errc::unsupported, 0,
                                 "no decoder for transfer syntax " + transfer_syntax);
    }
    return codec;
}

struct read_view {
    const std::uint8_t* data;
    std::size_t size;
};

read_view readable(const py::buffer& b, py::buffer_info& info) {
    info = b.request();
    if (info.ndim > 1 && info.strides.back() != info.itemsize)
        throw py::value_error("the buffer must be contiguous");
    return {static_cast<const std::uint8_t*>(info.ptr), static_cast<std::size_t>(info.size * info.itemsize)};
}

py::bytes to_bytes(const std::vector<std::uint8_t>& v) {
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

}  // namespace

void register_pixels(py::module_& m) {
    pixel_error_type = PyErr_NewException("turbodicom._core.PixelError", PyExc_ValueError, nullptr);
    m.attr("PixelError") = py::reinterpret_borrow<py::object>(pixel_error_type);
    py::register_exception_translator([](std::exception_ptr p) {
        auto raise = [](const std::string& message, const char* code, std::uint64_t offset, py::object frame) {
            py::object err = py::reinterpret_borrow<py::object>(pixel_error_type)(message);
            err.attr("code") = code;
            err.attr("offset") = offset;
            err.attr("frame") = frame;
            PyErr_SetObject(pixel_error_type, err.ptr());
        };
        try {
            if (p) std::rethrow_exception(p);
        } catch (const pixels::frame_error& e) {
            raise(e.what(), codec::codec_errc_name(e.code()), e.offset(), py::int_(e.frame()));
        } catch (const codec::codec_error& e) {
            raise(e.what(), codec::codec_errc_name(e.code()), e.offset(), py::none());
        }
    });

    m.def("pixel_codec", [](const std::string& transfer_syntax) {
        pixels::codec_id codec;
        if (!pixels::codec_for(transfer_syntax, codec)) return py::object(py::none());
        return py::object(py::str(codec == pixels::codec_id::rle ? "rle" : "jpeg"));
    }, "The codec turbodicom decodes `transfer_syntax` with ('rle', 'jpeg'), or None.");

    m.def(
        "decode_frame",
        [](const std::string& transfer_syntax, const py::buffer& data, const desc_tuple& d) {
            const pixels::codec_id codec = to_codec(transfer_syntax);
            const codec::frame_desc desc = to_desc(d);
            py::buffer_info info;
            const read_view in = readable(data, info);
            const std::uint64_t n = pixels::decoded_frame_bytes(desc);
            if (n > codec::max_frame_bytes) throw codec::codec_error(codec::codec_errc::too_large, 0, "frame too large");
            PyObject* raw = PyByteArray_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
            if (!raw) throw py::error_already_set();
            auto out = py::reinterpret_steal<py::bytearray>(raw);
            auto* dst = reinterpret_cast<std::uint8_t*>(PyByteArray_AS_STRING(out.ptr()));
            {
                py::gil_scoped_release release;
                pixels::decode_frame(codec, in.data, in.size, desc, dst, n);
            }
            return out;
        },
        py::arg("transfer_syntax"), py::arg("data"), py::arg("desc"),
        "Decode one frame; returns a bytearray of colour-by-pixel little-endian samples.");

    m.def(
        "decode_frames",
        [](const std::string& transfer_syntax, const py::buffer& value,
           const std::vector<std::vector<std::pair<std::uint64_t, std::uint64_t>>>& spans,
           const std::vector<std::size_t>& frames, const desc_tuple& d, const py::buffer& out, unsigned workers,
           bool correct_unused_bits) {
            const pixels::codec_id codec = to_codec(transfer_syntax);
            const codec::frame_desc desc = to_desc(d);
            std::vector<std::vector<parse::byte_span>> parts(spans.size());
            for (std::size_t i = 0; i < spans.size(); ++i) {
                for (const auto& [offset, length] : spans[i]) parts[i].push_back({offset, length});
            }
            py::buffer_info in_info;
            const read_view in = readable(value, in_info);
            py::buffer_info out_info = out.request(true);
            if (out_info.readonly) throw py::value_error("the output buffer is read-only");
            auto* dst = static_cast<std::uint8_t*>(out_info.ptr);
            const std::size_t out_size = static_cast<std::size_t>(out_info.size * out_info.itemsize);
            pixels::decode_options options;
            options.workers = workers;
            options.correct_unused_bits = correct_unused_bits;
            py::gil_scoped_release release;
            pixels::decode_frames(codec, in.data, in.size, parts, frames, desc, dst, out_size, options);
        },
        py::arg("transfer_syntax"), py::arg("value"), py::arg("spans"), py::arg("frames"), py::arg("desc"),
        py::arg("out"), py::arg("workers") = 0, py::arg("correct_unused_bits") = false,
        "Decode the frames `frames` of an encapsulated Pixel Data value into `out`, in parallel.");

    m.def(
        "decode_native",
        [](const py::buffer& value, const std::vector<std::size_t>& frames, const desc_tuple& d, const py::buffer& out,
           bool big_endian, bool ow_swapped, bool ybr_full_422, bool correct_unused_bits) {
            const codec::frame_desc desc = to_desc(d);
            py::buffer_info in_info;
            const read_view in = readable(value, in_info);
            py::buffer_info out_info = out.request(true);
            if (out_info.readonly) throw py::value_error("the output buffer is read-only");
            pixels::native_options options;
            options.big_endian = big_endian;
            options.ow_swapped = ow_swapped;
            options.ybr_full_422 = ybr_full_422;
            options.correct_unused_bits = correct_unused_bits;
            py::gil_scoped_release release;
            pixels::decode_native_frames(in.data, in.size, frames, desc, options,
                                         static_cast<std::uint8_t*>(out_info.ptr),
                                         static_cast<std::size_t>(out_info.size * out_info.itemsize));
        },
        py::arg("value"), py::arg("frames"), py::arg("desc"), py::arg("out"), py::arg("big_endian") = false,
        py::arg("ow_swapped") = false, py::arg("ybr_full_422") = false, py::arg("correct_unused_bits") = false,
        "Copy frames of native Pixel Data into `out` in pydicom's array layout.");

    m.def(
        "jpeg_info",
        [](const py::buffer& data) {
            py::buffer_info info;
            const read_view in = readable(data, info);
            codec::jpeg::stream_info s;
            {
                py::gil_scoped_release release;
                s = codec::jpeg::read_info(in.data, in.size);
            }
            py::list ids;
            for (const auto& c : s.components) ids.append(c.id);
            py::dict d;
            d["width"] = s.width;
            d["height"] = s.height;
            d["precision"] = s.precision;
            d["process"] = s.process;
            d["component_ids"] = ids;
            d["jfif"] = s.jfif;
            d["adobe_transform"] = s.adobe_transform;
            return d;
        },
        py::arg("data"), "The frame header of a JPEG stream.");

    m.def(
        "encode_rle",
        [](const py::buffer& samples, const desc_tuple& d) {
            py::buffer_info info;
            const read_view in = readable(samples, info);
            const codec::frame_desc desc = to_desc(d);
            std::vector<std::uint8_t> encoded;
            {
                py::gil_scoped_release release;
                encoded = codec::rle::encode(in.data, in.size, desc);
            }
            return to_bytes(encoded);
        },
        py::arg("samples"), py::arg("desc"), "Encode one frame as RLE Lossless.");

    m.def(
        "encode_jpeg_lossless",
        [](const py::buffer& samples, const desc_tuple& d, int predictor) {
            py::buffer_info info;
            const read_view in = readable(samples, info);
            const codec::frame_desc desc = to_desc(d);
            std::vector<std::uint8_t> encoded;
            {
                py::gil_scoped_release release;
                encoded = codec::jpeg::encode_lossless(in.data, in.size, desc, predictor);
            }
            return to_bytes(encoded);
        },
        py::arg("samples"), py::arg("desc"), py::arg("predictor") = 1, "Encode one frame as lossless JPEG.");

    m.def(
        "encode_jpeg_baseline",
        [](const py::buffer& samples, const desc_tuple& d, int quality, const std::string& subsampling,
           bool rgb_to_ycbcr, bool keep_rgb) {
            py::buffer_info info;
            const read_view in = readable(samples, info);
            const codec::frame_desc desc = to_desc(d);
            codec::jpeg::baseline_options options;
            options.quality = quality;
            options.rgb_to_ycbcr = rgb_to_ycbcr;
            options.keep_rgb = keep_rgb;
            if (subsampling == "444") options.chroma = codec::jpeg::subsampling::s444;
            else if (subsampling == "422") options.chroma = codec::jpeg::subsampling::s422;
            else if (subsampling == "420") options.chroma = codec::jpeg::subsampling::s420;
            else throw py::value_error("subsampling must be '444', '422' or '420'");
            std::vector<std::uint8_t> encoded;
            {
                py::gil_scoped_release release;
                encoded = codec::jpeg::encode_baseline(in.data, in.size, desc, options);
            }
            return to_bytes(encoded);
        },
        py::arg("samples"), py::arg("desc"), py::arg("quality") = 90, py::arg("subsampling") = "422",
        py::arg("rgb_to_ycbcr") = true, py::arg("keep_rgb") = false, "Encode one 8-bit frame as baseline JPEG.");
}

}  // namespace turbodicom::bindings
