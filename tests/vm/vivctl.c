/* vivctl: the two things the VM scenarios need from a V4L2 device that busybox cannot do.
 *
 *   vivctl DEV list                   every control: id, name, value
 *   vivctl DEV set "Control Name" N   set a control by its name (buttons: any N)
 *   vivctl DEV fps N                  capture at N frames per second (VIDIOC_S_PARM at
 *                                     640x480, which vivid keeps for later opens)
 *   vivctl DEV feed FILE.ppm          stream a binary PPM (P6) of exactly the output format's
 *                                     size as RGB3 frames into a video output node, forever
 *
 * Built static for the guest by tests/vm/run.sh; talks to the kernel through the plain
 * V4L2 ioctls (linux/videodev2.h). Errors: one line naming the device and the cause, exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *dev;

static void die(const char *what) {
  fprintf(stderr, "vivctl: %s: %s: %s\n", dev, what, strerror(errno));
  exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg) {
  int r;
  do r = ioctl(fd, req, arg);
  while (r < 0 && errno == EINTR);
  return r;
}

static int controls(int fd, const char *want, long value) {
  struct v4l2_queryctrl q = {.id = V4L2_CTRL_FLAG_NEXT_CTRL};
  while (xioctl(fd, VIDIOC_QUERYCTRL, &q) == 0) {
    if (!(q.flags & V4L2_CTRL_FLAG_DISABLED) && q.type != V4L2_CTRL_TYPE_CTRL_CLASS) {
      struct v4l2_control c = {.id = q.id};
      if (!want) {
        if (q.type == V4L2_CTRL_TYPE_BUTTON || xioctl(fd, VIDIOC_G_CTRL, &c) < 0) c.value = 0;
        printf("0x%08x %-40s %d (%d..%d)\n", q.id, (char *)q.name, c.value, q.minimum,
               q.maximum);
      } else if (strcmp((char *)q.name, want) == 0) {
        c.value = (int)value;
        if (xioctl(fd, VIDIOC_S_CTRL, &c) < 0) die(want);
        return 0;
      }
    }
    q.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
  }
  if (want) {
    fprintf(stderr, "vivctl: %s: no control named \"%s\"\n", dev, want);
    return 1;
  }
  return 0;
}

static unsigned char *read_ppm(const char *path, unsigned *w, unsigned *h) {
  FILE *f = fopen(path, "rb");
  unsigned max;
  if (!f || fscanf(f, "P6 %u %u %u", w, h, &max) != 3 || max != 255 || fgetc(f) == EOF) {
    fprintf(stderr, "vivctl: %s: not a binary 8-bit PPM (P6)\n", path);
    exit(1);
  }
  size_t n = (size_t)*w * *h * 3;
  unsigned char *px = malloc(n);
  if (!px || fread(px, 1, n, f) != n) {
    fprintf(stderr, "vivctl: %s: truncated PPM\n", path);
    exit(1);
  }
  fclose(f);
  return px;
}

static int feed(int fd, const char *path) {
  unsigned w, h;
  unsigned char *px = read_ppm(path, &w, &h);
  struct v4l2_format fmt = {.type = V4L2_BUF_TYPE_VIDEO_OUTPUT};
  if (xioctl(fd, VIDIOC_G_FMT, &fmt) < 0) die("VIDIOC_G_FMT");
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_RGB24;
  fmt.fmt.pix.width = w;
  fmt.fmt.pix.height = h;
  if (xioctl(fd, VIDIOC_S_FMT, &fmt) < 0) die("VIDIOC_S_FMT");
  if (fmt.fmt.pix.pixelformat != V4L2_PIX_FMT_RGB24 || fmt.fmt.pix.width != w ||
      fmt.fmt.pix.height != h) {
    fprintf(stderr, "vivctl: %s: output is %ux%u, %s is %ux%u RGB3\n", dev, fmt.fmt.pix.width,
            fmt.fmt.pix.height, path, w, h);
    return 1;
  }
  unsigned stride = fmt.fmt.pix.bytesperline;
  struct v4l2_requestbuffers rb = {.count = 4, .type = fmt.type, .memory = V4L2_MEMORY_MMAP};
  if (xioctl(fd, VIDIOC_REQBUFS, &rb) < 0) die("VIDIOC_REQBUFS");
  for (unsigned i = 0; i < rb.count; i++) {
    struct v4l2_buffer b = {.index = i, .type = fmt.type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_QUERYBUF, &b) < 0) die("VIDIOC_QUERYBUF");
    unsigned char *m = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, b.m.offset);
    if (m == MAP_FAILED) die("mmap");
    for (unsigned y = 0; y < h; y++) memcpy(m + (size_t)y * stride, px + (size_t)y * w * 3, w * 3);
    b.bytesused = fmt.fmt.pix.sizeimage;
    if (xioctl(fd, VIDIOC_QBUF, &b) < 0) die("VIDIOC_QBUF");
  }
  int type = fmt.type;
  if (xioctl(fd, VIDIOC_STREAMON, &type) < 0) die("VIDIOC_STREAMON");
  printf("vivctl: %s: feeding %s as %ux%u RGB3\n", dev, path, w, h);
  fflush(stdout);
  for (;;) {  /* the buffers keep the picture: hand each back as soon as it was shown */
    struct v4l2_buffer b = {.type = fmt.type, .memory = V4L2_MEMORY_MMAP};
    if (xioctl(fd, VIDIOC_DQBUF, &b) < 0) die("VIDIOC_DQBUF");
    b.bytesused = fmt.fmt.pix.sizeimage;
    if (xioctl(fd, VIDIOC_QBUF, &b) < 0) die("VIDIOC_QBUF");
  }
}

static int fps(int fd, unsigned n) {
  struct v4l2_format fmt = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  if (xioctl(fd, VIDIOC_G_FMT, &fmt) < 0) die("VIDIOC_G_FMT");
  fmt.fmt.pix.width = 640;
  fmt.fmt.pix.height = 480;
  if (xioctl(fd, VIDIOC_S_FMT, &fmt) < 0) die("VIDIOC_S_FMT");
  struct v4l2_streamparm p = {.type = V4L2_BUF_TYPE_VIDEO_CAPTURE};
  p.parm.capture.timeperframe.numerator = 1;
  p.parm.capture.timeperframe.denominator = n;
  if (xioctl(fd, VIDIOC_S_PARM, &p) < 0) die("VIDIOC_S_PARM");
  printf("vivctl: %s: %u/%u s a frame\n", dev, p.parm.capture.timeperframe.numerator,
         p.parm.capture.timeperframe.denominator);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: vivctl DEV list | set NAME VALUE | fps N | feed FILE.ppm\n");
    return 2;
  }
  dev = argv[1];
  int fd = open(dev, O_RDWR);
  if (fd < 0) die("open");
  if (!strcmp(argv[2], "list")) return controls(fd, NULL, 0);
  if (!strcmp(argv[2], "set") && argc == 5) return controls(fd, argv[3], strtol(argv[4], 0, 0));
  if (!strcmp(argv[2], "feed") && argc == 4) return feed(fd, argv[3]);
  if (!strcmp(argv[2], "fps") && argc == 4) return fps(fd, (unsigned)atoi(argv[3]));
  fprintf(stderr, "usage: vivctl DEV list | set NAME VALUE | fps N | feed FILE.ppm\n");
  return 2;
}
