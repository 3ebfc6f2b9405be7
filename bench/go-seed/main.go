// The seed program from the project's origin article, unchanged except that
// the listen address is an argument (default ":1235").
package main

import (
	"fmt"
	"net/http"
	"os"

	"golang.org/x/net/websocket"
)

const queueSize = 20

type Input struct {
	Cmd string `json:"cmd"`
}

type Output struct {
	Cmd string `json:"cmd"`
}

func Handler(ws *websocket.Conn) {
	msgWrite := make(chan *Output, queueSize)
	var in Input
	go writeHandler(ws, msgWrite)
	for {
		err := websocket.JSON.Receive(ws, &in)
		if err != nil {
			fmt.Println("Receive error:", err)
			break
		} else {
			msgWrite <- &Output{Cmd: "Thanks for your message: " + in.Cmd}
		}
	}
}

func writeHandler(ws *websocket.Conn, out chan *Output) {
	for {
		select {
		case d := <-out:
			err := websocket.JSON.Send(ws, &d)
			if err != nil {
				fmt.Println("Send error:", err)
				return
			} else {
				fmt.Println("> ", d.Cmd)
			}
		}
	}
}

func main() {
	addr := ":1235"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	http.Handle("/echo", websocket.Handler(Handler))
	fmt.Println("Server running on", addr)
	err := http.ListenAndServe(addr, nil)
	if err != nil {
		panic("ListenAndServe: " + err.Error())
	}
}
