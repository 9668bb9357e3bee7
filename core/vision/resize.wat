;; Packed RGB bytes into normalised planar float tensors: the whole-frame resize of the
;; detector's input, and the axis-aligned crops after it (liveness context, landmark box). One pixel's three channels travel as one f32x4 (R, G, B, and the next pixel's R,
;; ignored), so each source tap is one 4-byte load and a widening, not three scalar loads.
;; The caller pads the source by 4 bytes so the last pixel's load stays inside.
;;
;; Tap tables are filled by the caller (core/vision/resize.ts):
;;   bilinear cols: per output column {a: i32 byte offset of the left pixel in a row,
;;                  b: i32 byte offset of the right pixel, w: f32 weight of the right one}
;;   bilinear rows: per output row {r0: i32 byte offset of the top row, r1: the bottom row,
;;                  wy: f32 weight of the bottom one}
;;   box cols:      per output column {x: i32 byte offset of the first pixel, n: i32 pixels}
;;   box rows:      per output row {r: i32 byte offset of the first row, n: i32 rows}
;; Output: value = sum * k + c per channel, written to three planes at pr, pg, pb (byte
;; pointers; the caller swaps pr and pb for BGR).
;; Everything in the inner loops is written out in place: V8 does not inline wasm calls here, and
;; a helper call per pixel tripled the time (1.5 ms against 0.5 ms for 320x240).
(module
  (memory (export "memory") 1 16384)

  (func (export "bilinear")
    (param $src i32) (param $W i32) (param $H i32) (param $cols i32) (param $rows i32)
    (param $pr i32) (param $pg i32) (param $pb i32) (param $k f32) (param $c f32)
    (local $y i32) (local $x i32) (local $i i32) (local $col i32) (local $row i32)
    (local $r0 i32) (local $r1 i32) (local $a i32) (local $b i32)
    (local $wy v128) (local $w v128) (local $top v128) (local $bot v128) (local $v00 v128) (local $v01 v128)
    (local $kk v128) (local $cc v128) (local $v v128)
    (local.set $kk (f32x4.splat (local.get $k)))
    (local.set $cc (f32x4.splat (local.get $c)))
    (local.set $i (i32.const 0))
    (local.set $y (i32.const 0))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $H)))
        (local.set $row (i32.add (local.get $rows) (i32.mul (local.get $y) (i32.const 12))))
        (local.set $r0 (i32.add (local.get $src) (i32.load (local.get $row))))
        (local.set $r1 (i32.add (local.get $src) (i32.load offset=4 (local.get $row))))
        (local.set $wy (f32x4.splat (f32.load offset=8 (local.get $row))))
        (local.set $col (local.get $cols))
        (local.set $x (i32.const 0))
        (block $xdone
          (loop $xloop
            (br_if $xdone (i32.ge_u (local.get $x) (local.get $W)))
            (local.set $a (i32.load (local.get $col)))
            (local.set $b (i32.load offset=4 (local.get $col)))
            (local.set $w (f32x4.splat (f32.load offset=8 (local.get $col))))
            (local.set $v00 (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r0) (local.get $a)))))))
            (local.set $top (f32x4.add (local.get $v00)
              (f32x4.mul (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r0) (local.get $b)))))) (local.get $v00)) (local.get $w))))
            (local.set $v01 (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r1) (local.get $a)))))))
            (local.set $bot (f32x4.add (local.get $v01)
              (f32x4.mul (f32x4.sub (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r1) (local.get $b)))))) (local.get $v01)) (local.get $w))))
            (local.set $v
              (f32x4.add
                (f32x4.mul
                  (f32x4.add (local.get $top) (f32x4.mul (f32x4.sub (local.get $bot) (local.get $top)) (local.get $wy)))
                  (local.get $kk))
                (local.get $cc)))
            (f32.store (i32.add (local.get $pr) (local.get $i)) (f32x4.extract_lane 0 (local.get $v)))
            (f32.store (i32.add (local.get $pg) (local.get $i)) (f32x4.extract_lane 1 (local.get $v)))
            (f32.store (i32.add (local.get $pb) (local.get $i)) (f32x4.extract_lane 2 (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (local.set $col (i32.add (local.get $col) (i32.const 12)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $xloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))

  (func (export "box")
    (param $src i32) (param $stride i32) (param $W i32) (param $H i32) (param $cols i32) (param $rows i32)
    (param $pr i32) (param $pg i32) (param $pb i32) (param $scale f32) (param $c f32)
    (local $y i32) (local $x i32) (local $i i32) (local $col i32) (local $row i32)
    (local $r i32) (local $nr i32) (local $x0 i32) (local $nc i32) (local $yy i32) (local $p i32) (local $q i32) (local $end i32)
    (local $sum v128) (local $cc v128) (local $v v128)
    (local.set $cc (f32x4.splat (local.get $c)))
    (local.set $i (i32.const 0))
    (local.set $y (i32.const 0))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $H)))
        (local.set $row (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 3))))
        (local.set $r (i32.add (local.get $src) (i32.load (local.get $row))))
        (local.set $nr (i32.load offset=4 (local.get $row)))
        (local.set $col (local.get $cols))
        (local.set $x (i32.const 0))
        (block $xdone
          (loop $xloop
            (br_if $xdone (i32.ge_u (local.get $x) (local.get $W)))
            (local.set $x0 (i32.load (local.get $col)))
            (local.set $nc (i32.load offset=4 (local.get $col)))
            (local.set $sum (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.add (local.get $r) (local.get $x0)))
            (local.set $yy (i32.const 0))
            (block $rdone
              (loop $rloop
                (br_if $rdone (i32.ge_u (local.get $yy) (local.get $nr)))
                (local.set $q (local.get $p))
                (local.set $end (i32.add (local.get $p) (i32.mul (local.get $nc) (i32.const 3))))
                (block $cdone
                  (loop $cloop
                    (br_if $cdone (i32.ge_u (local.get $q) (local.get $end)))
                    (local.set $sum (i32x4.add (local.get $sum) (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $q))))))
                    (local.set $q (i32.add (local.get $q) (i32.const 3)))
                    (br $cloop)))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
                (br $rloop)))
            ;; mean = sum / (rows * cols), then * scale + c.
            (local.set $v
              (f32x4.add
                (f32x4.mul (f32x4.convert_i32x4_u (local.get $sum))
                  (f32x4.splat (f32.div (local.get $scale) (f32.convert_i32_u (i32.mul (local.get $nr) (local.get $nc))))))
                (local.get $cc)))
            (f32.store (i32.add (local.get $pr) (local.get $i)) (f32x4.extract_lane 0 (local.get $v)))
            (f32.store (i32.add (local.get $pg) (local.get $i)) (f32x4.extract_lane 1 (local.get $v)))
            (f32.store (i32.add (local.get $pb) (local.get $i)) (f32x4.extract_lane 2 (local.get $v)))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (local.set $col (i32.add (local.get $col) (i32.const 8)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $xloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))
;; Axis-aligned crop (liveness context, landmark box): bilinear with separable taps, so a
  ;; neighbour outside the frame has weight 0 (its offset is clamped to a valid pixel) and reads
  ;; as black, as warp.ts does.
  ;;   cols: per output column {a: i32 byte offset in a row, b: i32, wa: f32, wb: f32}
  ;;   rows: per output row {a: i32 byte offset of the row from src, b: i32, wa: f32, wb: f32}
  ;; grey = 1 writes one plane of BT.601 luma at pr.
  (func (export "crop")
    (param $src i32) (param $W i32) (param $H i32) (param $cols i32) (param $rows i32)
    (param $pr i32) (param $pg i32) (param $pb i32) (param $k f32) (param $c f32) (param $grey i32)
    (local $y i32) (local $x i32) (local $i i32) (local $col i32) (local $row i32)
    (local $r0 i32) (local $r1 i32) (local $a i32) (local $b i32)
    (local $ya v128) (local $yb v128) (local $wa v128) (local $wb v128) (local $v v128)
    (local.set $i (i32.const 0))
    (local.set $y (i32.const 0))
    (block $ydone
      (loop $yloop
        (br_if $ydone (i32.ge_u (local.get $y) (local.get $H)))
        (local.set $row (i32.add (local.get $rows) (i32.shl (local.get $y) (i32.const 4))))
        (local.set $r0 (i32.add (local.get $src) (i32.load (local.get $row))))
        (local.set $r1 (i32.add (local.get $src) (i32.load offset=4 (local.get $row))))
        (local.set $ya (f32x4.splat (f32.load offset=8 (local.get $row))))
        (local.set $yb (f32x4.splat (f32.load offset=12 (local.get $row))))
        (local.set $col (local.get $cols))
        (local.set $x (i32.const 0))
        (block $xdone
          (loop $xloop
            (br_if $xdone (i32.ge_u (local.get $x) (local.get $W)))
            (local.set $a (i32.load (local.get $col)))
            (local.set $b (i32.load offset=4 (local.get $col)))
            (local.set $wa (f32x4.splat (f32.load offset=8 (local.get $col))))
            (local.set $wb (f32x4.splat (f32.load offset=12 (local.get $col))))
            (local.set $v
              (f32x4.add
                (f32x4.mul
                  (f32x4.add
                    (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r0) (local.get $a)))))) (local.get $wa))
                    (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r0) (local.get $b)))))) (local.get $wb)))
                  (local.get $ya))
                (f32x4.mul
                  (f32x4.add
                    (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r1) (local.get $a)))))) (local.get $wa))
                    (f32x4.mul (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (i32.add (local.get $r1) (local.get $b)))))) (local.get $wb)))
                  (local.get $yb))))
            (if (local.get $grey)
              (then
                (local.set $v (f32x4.mul (local.get $v) (v128.const f32x4 0.299 0.587 0.114 0)))
                (f32.store (i32.add (local.get $pr) (local.get $i))
                  (f32.add
                    (f32.mul
                      (f32.add (f32.add (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v))) (f32x4.extract_lane 2 (local.get $v)))
                      (local.get $k))
                    (local.get $c))))
              (else
                (local.set $v (f32x4.add (f32x4.mul (local.get $v) (f32x4.splat (local.get $k))) (f32x4.splat (local.get $c))))
                (f32.store (i32.add (local.get $pr) (local.get $i)) (f32x4.extract_lane 0 (local.get $v)))
                (f32.store (i32.add (local.get $pg) (local.get $i)) (f32x4.extract_lane 1 (local.get $v)))
                (f32.store (i32.add (local.get $pb) (local.get $i)) (f32x4.extract_lane 2 (local.get $v)))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (local.set $col (i32.add (local.get $col) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $xloop)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yloop))))
)
