# escape=`
FROM ubuntu:24.04
ENV APP_HOME=/opt/app `
    API_KEY=sk_live_51Hescape0directive0value0000 `
    LANG=C.UTF-8
RUN apt-get update `
    && apt-get install -y python3 `
    && python3 -c "import os; print(os.environ['API_KEY'][:0])"
COPY app.py /opt/app/app.py
CMD ["python3", "/opt/app/app.py"]
